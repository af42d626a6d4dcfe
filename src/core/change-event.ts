/**
 * The one model every stage shares. A capture turns a source change into a ChangeEvent; the codec
 * maps it to and from an Avro envelope; a sink applies it by primary key.
 *
 * `version` is per key and monotonic: a later change of the same row always has a greater version
 * (the outbox sequence, the change's WAL LSN, a binlog GTID-derived counter, or a configured column
 * such as updated_at in microseconds). The sink keeps the last applied version per row and skips
 * anything not newer, which is what makes replays and duplicates harmless.
 */
import type { Row } from './table-schema.js';

/** c create, u update, d delete, r snapshot read (applied as an upsert). */
export type Op = 'c' | 'u' | 'd' | 'r';
export const OPS: readonly Op[] = ['c', 'u', 'd', 'r'];

export interface TableRef {
  readonly schema?: string;
  readonly name: string;
}

export interface SourceInfo {
  /** The capture's name from the config (e.g. "coupons-outbox"). */
  readonly connector: string;
  /** Opaque, totally ordered within its connector; serialised as text (see Position). */
  readonly position: string;
  readonly txId?: string;
  /** Commit time at the source, "YYYY-MM-DDTHH:MM:SS.ffffffZ". */
  readonly commitTs?: string;
  /** Free text from the producer, e.g. the query that made the change. */
  readonly context?: string;
}

export interface ChangeEvent {
  readonly table: TableRef;
  readonly op: Op;
  /** The primary-key columns and their values. */
  readonly key: Row;
  /** The full row after the change; absent for deletes. */
  readonly after?: Row;
  readonly source: SourceInfo;
  readonly version: bigint;
}

/** A source's position, comparable and serialisable; each source defines its own. */
export interface PositionCodec<P> {
  compare(a: P, b: P): number;
  serialize(p: P): string;
  parse(text: string): P;
}
