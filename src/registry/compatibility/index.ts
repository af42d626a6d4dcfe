/**
 * Avro schema compatibility, with the verdicts of Apache Avro Java's `SchemaCompatibility` (the
 * checker Confluent's registry wraps). reader-writer.ts decides one pair: can a reader schema
 * decode data written with a writer schema (a list of incompatibilities, [] = yes). levels.ts
 * turns a level (BACKWARD, FORWARD, FULL, their transitive forms, NONE) and a subject's history into
 * pair checks and Confluent-style messages. Both take parsed AvroNodes (../avro/schema-model.ts).
 */
export * from './types.js';
export { checkReaderWriter, describeIncompatibility, avroTypeName } from './reader-writer.js';
export { checkCompatibility, confluentMessage, type CompatibilityResult } from './levels.js';
