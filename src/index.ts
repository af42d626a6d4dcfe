/**
 * sluice's public API for applications. Key concepts: a TableSchema describes a table portably;
 * the codec turns row images into Confluent-framed Avro with schemas from any Confluent-compatible
 * registry; the outbox writer records changes inside the application's own transaction.
 */
export type { TableSchema, Column, ColumnType, Row, ColumnValue } from './core/table-schema.js';
export type { ChangeEvent, Op, SourceInfo } from './core/change-event.js';
export { SluiceError, isSluiceError, ERROR_CODES, type ErrorCode } from './core/errors.js';
export { AvroSerde, avroType, type AvroWriter, type SchemaRegistryLike } from './codec/avro-serde.js';
export { tableAvroSchema, tableRecordName } from './codec/table-avro-schema.js';
export { envelopeSchema, toEnvelope, fromEnvelope } from './codec/change-envelope.js';
export { subjectName, SUBJECT_STRATEGIES, type SubjectStrategy } from './codec/subject-strategy.js';
export { keyEncoder, type KeyEncoding } from './codec/key-encoding.js';
export { readSchemaId } from './codec/confluent-wire.js';
export { RegistryClient, type RegistryClientOptions } from './registry/client.js';
export { createRegistryServer } from './registry/server.js';
export { createOutboxWriter, type OutboxChange, type OutboxWriter } from './capture/outbox/writer.js';
export { createCapture } from './capture/sdk/index.js';
export { createCaptureApi } from './capture/api/index.js';
