/**
 * Renames the writer schema's named types to the reader's full names where only the namespace
 * differs, so avsc (which matches records by full name) resolves them as the Avro specification
 * does (by unqualified name). Names never reach the binary encoding, so the bytes read the same.
 */
import type avro from 'avsc';
import { parseAvroJson, parseAvroSchema, unqualified } from '../registry/avro/schema-model.js';
import { canonicalText } from '../registry/avro/canonical.js';

export function alignWriterNames(writerText: string, reader: avro.Type): string {
  const readerNames = parseAvroJson(reader.schema({ exportAttrs: true })).defined;
  const byShort = new Map<string, string | null>();
  for (const full of readerNames.keys()) {
    const short = unqualified(full);
    byShort.set(short, byShort.has(short) ? null : full); // null: ambiguous, leave alone
  }
  const writer = parseAvroSchema(writerText);
  let changed = false;
  for (const node of writer.defined.values()) {
    if (readerNames.has(node.fullName)) continue;
    const target = byShort.get(node.name);
    if (!target) continue;
    node.fullName = target;
    node.namespace = target.includes('.') ? target.slice(0, target.lastIndexOf('.')) : '';
    changed = true;
  }
  return changed ? canonicalText(writer.root) : writerText;
}
