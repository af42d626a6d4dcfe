/**
 * The capabilities a pipeline is assembled from, each a small interface with its contract.
 * pipeline/ wires implementations together; no implementation imports another.
 */
import type { ChangeEvent } from './change-event.js';
import type { TableSchema } from './table-schema.js';

export interface ChangeBatch {
  readonly events: readonly ChangeEvent[];
  /** The source position after the last event of the batch: what to acknowledge once it is durable. */
  readonly position: string;
  /**
   * The batch is one source transaction that must reach the target whole: with the direct
   * transport it is applied in one target transaction, never split by apply.batchSize.
   */
  readonly atomic?: boolean;
  /**
   * Tables whose shape changed at the source before the batch's first event (columns added or
   * dropped): the pipeline rebinds them (and registers their new schema) before applying the batch.
   */
  readonly schemaChanges?: readonly TableSchema[];
  /** Tables emptied at the source (TRUNCATE) before the batch's events, at this version. */
  readonly truncate?: { readonly tables: readonly TableSchema[]; readonly version: bigint };
  /** DDL about the source's tables read from its log since the previous batch, in log order (for the schema history). */
  readonly ddl?: readonly SourceDdl[];
}

export interface SourceDdl {
  /** schema.table */
  readonly table: string;
  /** The command tag (ALTER TABLE, CREATE INDEX, …) and the statement as the client sent it. */
  readonly tag: string;
  readonly statement: string;
  /** The position of the transaction that ran it. */
  readonly position: string;
}

/**
 * A source yields batches in source order. `acknowledge(position)` says everything up to and
 * including `position` is durable downstream (broker-acked or applied): only then may the source
 * free it (advance a slot, delete outbox rows). Never acknowledge on a timer
 * (docs/guarantees.md: ack-after-durable).
 */
export interface Source {
  readonly name: string;
  tables(): Promise<TableSchema[]>;
  start(from?: string): AsyncIterable<ChangeBatch>;
  acknowledge(position: string): Promise<void>;
  stop(): Promise<void>;
}

export interface ApplyResult {
  applied: number;
  /** Not applied because the target already had this version or a newer one. */
  skipped: number;
  /** Sent to the dead-letter store (non-transient failure) or parked behind a dead letter of their key. */
  deadLettered: number;
}

/**
 * A sink applies a batch atomically: every event of it or none, together with the checkpoint
 * (`checkpoint.name` → `checkpoint.position`) in the same target transaction. Replaying an applied
 * batch is a no-op; an event whose version is not newer than the row's applied version is skipped.
 * Transient failures throw a retriable SluiceError and leave nothing applied.
 */
export interface Sink {
  prepare(tables: readonly TableSchema[]): Promise<void>;
  /** Rebinds a table whose shape changed; false when the target cannot take it (its changes will dead-letter). */
  evolve?(table: TableSchema): Promise<boolean>;
  /** Empties a table's target (a source TRUNCATE), keeping its keys' versions as tombstones. */
  truncate?(table: TableSchema, version: bigint): Promise<void>;
  apply(events: readonly ChangeEvent[], checkpoint?: { name: string; position: string }): Promise<ApplyResult>;
  checkpoint(name: string): Promise<string | undefined>;
  close(): Promise<void>;
}
