/**
 * Avro schema compatibility, as Apache Avro's Java `SchemaCompatibility` decides it (the checker
 * Confluent's registry wraps). Reader/writer resolution rules in reader-writer.ts; the levels
 * (BACKWARD, FORWARD, FULL, their transitive forms, NONE) in levels.ts.
 * Being written: see the helper task. Signatures are fixed:
 *   checkReaderWriter(reader: AvroNode, writer: AvroNode): Incompatibility[]   ([] = compatible)
 *   checkCompatibility(level, candidate: AvroNode, previousNewestFirst: AvroNode[]): { compatible: boolean; messages: string[] }
 */
export * from './types.js';
