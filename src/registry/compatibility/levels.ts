/**
 * Compatibility levels over a subject's history, as Confluent's registry applies them
 * (io.confluent.kafka.schemaregistry.CompatibilityChecker and SchemaValidatorBuilder, 7.x):
 * - BACKWARD: the candidate, as reader, reads data written with the latest previous schema.
 * - FORWARD: the latest previous schema, as reader, reads data written with the candidate.
 * - FULL: both; the FORWARD messages come first, then the BACKWARD ones.
 * - *_TRANSITIVE: the same against every previous schema, newest first, stopping at the first one
 *   that fails and reporting only that one's messages.
 * - NONE, or no previous schema: compatible.
 * Messages are Confluent's verbose ones, "new"/"old" naming the candidate and the previous schema.
 * The caller appends Confluent's context ({oldSchemaVersion: N}, {oldSchema: '...'}) for the
 * version `previousIndex` points at.
 */
import type { AvroNode } from '../avro/schema-model.js';
import { checkReaderWriter, describeIncompatibility } from './reader-writer.js';
import type { CompatibilityLevel, Incompatibility } from './types.js';

export interface CompatibilityResult {
  compatible: boolean;
  /** One Confluent-style message per incompatibility; [] when compatible. */
  messages: string[];
  /** When incompatible: the index in `previousNewestFirst` of the schema the messages are about. */
  previousIndex?: number;
}

export function checkCompatibility(level: CompatibilityLevel, candidate: AvroNode, previousNewestFirst: AvroNode[]): CompatibilityResult {
  if (level === 'NONE') return { compatible: true, messages: [] };
  const transitive = level.endsWith('_TRANSITIVE');
  const against = transitive ? previousNewestFirst : previousNewestFirst.slice(0, 1);
  for (const [index, previous] of against.entries()) {
    const messages: string[] = [];
    if (level.startsWith('FORWARD') || level.startsWith('FULL')) {
      messages.push(...checkReaderWriter(previous, candidate).map((inc) => confluentMessage(inc, 'old', 'new')));
    }
    if (level.startsWith('BACKWARD') || level.startsWith('FULL')) {
      messages.push(...checkReaderWriter(candidate, previous).map((inc) => confluentMessage(inc, 'new', 'old')));
    }
    if (messages.length > 0) return { compatible: false, messages, previousIndex: index };
  }
  return { compatible: true, messages: [] };
}

/**
 * Confluent's text for one incompatibility (io.confluent.kafka.schemaregistry.avro.Difference):
 * `{errorType:'TYPE_MISMATCH', description:'The type (path '/fields/0/type') of a field in the new
 * schema does not match with the old schema', additionalInfo:'reader type: STRING not compatible
 * with writer type: INT'}`. `readerWord`/`writerWord` are "new"/"old" or "old"/"new".
 */
export function confluentMessage(inc: Incompatibility, readerWord: string, writerWord: string): string {
  if (inc.type === 'AMBIGUOUS_READER_FIELD') {
    // Avro threw; Confluent's AvroSchema.isBackwardCompatible catches it and says so.
    return `Unexpected exception during compatibility check: ${inc.detail}`;
  }
  const description = describeIncompatibility(inc, readerWord, writerWord);
  return `{errorType:'${inc.type}', description:'${description}', additionalInfo:'${inc.detail}'}`;
}
