/**
 * What the sink needs from a target database's client: transactions, statements (kept prepared
 * where they repeat), COPY streams and savepoints. One small module per engine implements it;
 * the SQL itself comes from the dialects.
 */
import type { TableRef } from '../../core/change-event.js';
import type { TableSchema } from '../../core/table-schema.js';

/** One statement runner inside a transaction; placeholders are the engine's own ($1 or ?). */
export interface TargetTx {
  /**
   * `prepared`: the text is the same for every batch (not built from its size), so the driver may
   * keep it prepared on the connection: parsed and planned once, not per batch.
   */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[], prepared?: boolean): Promise<T[]>;
  /** `COPY <into> FROM …`, fed by `chunks` as the server takes them (PostgreSQL and PGlite). */
  copyFrom(into: string, chunks: Iterable<string>): Promise<void>;
  /**
   * Runs `sql` (a CREATE TEMP TABLE) once per physical connection, and again after a rollback
   * that may have undone it.
   */
  once(key: string, sql: string): Promise<void>;
  savepoint(name: string): Promise<void>;
  /** Rolls back to the savepoint and releases it. */
  rollbackTo(name: string): Promise<void>;
  release(name: string): Promise<void>;
  /** The transaction reads the latest committed rows (MariaDB's READ COMMITTED, see drivers/mysql.ts). */
  readonly readCommitted: boolean;
}

export interface TargetConnection {
  /**
   * Runs `fn` in one transaction on one connection: commit when it resolves, roll back when it
   * throws. `opening`, a statement without parameters, is sent with the BEGIN where the engine
   * allows (one round trip for both); its rows are fn's second argument.
   */
  transaction<T>(fn: (tx: TargetTx, opened: Array<Record<string, unknown>>) => Promise<T>, opening?: string): Promise<T>;
  /** A read outside any transaction. */
  read<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** The target table's schema; `keyColumns` is used when it has no primary key. */
  introspect(ref: TableRef, keyColumns: readonly string[]): Promise<TableSchema>;
  /** Ends what the driver opened itself (never the caller's pool unless it was handed over). */
  close(): Promise<void>;
}
