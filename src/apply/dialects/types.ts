/**
 * What the sink engine (../sink.ts) asks of a dialect, and the shapes they exchange. A dialect
 * only builds and runs SQL from the metadata: which events to apply, in which order, what is
 * poison and where dead letters go is decided once, in the engine.
 */
import type { ChangeEvent, TableRef } from '../../core/change-event.js';
import type { Column, TableSchema } from '../../core/table-schema.js';
import type { Dialect } from '../../metadata/types.js';
import type { ErrorClass } from '../errors.js';
import type { KeyTexter } from '../key-text.js';

/** A source table bound to its target table. */
export interface TableBinding {
  /** The schema the events follow (columns, key) as the sink was given it. */
  readonly source: TableSchema;
  /** The target table as introspected (its real schema/database and name). */
  readonly target: TableSchema;
  /** "schema.name" of the target: sluice_dead_letters.table_name, and what names its version rows. */
  readonly targetName: string;
  /** Source columns in order (all of them exist in the target). */
  readonly columns: readonly Column[];
  readonly keyColumns: readonly Column[];
  readonly keyText: KeyTexter;
  /** The order keys are locked and written in (see key-text.ts keyOrder). */
  readonly compareKeys: (a: string, b: string) => number;
  /** A small integer unique within the sink, for per-table names (stage tables, statement caches). */
  readonly id: number;
}

/** One event to apply, resolved against its binding. At most one per key reaches a dialect. */
export interface Change {
  readonly event: ChangeEvent;
  readonly binding: TableBinding;
  readonly keyText: string;
  readonly version: bigint;
  readonly deleted: boolean;
  /** The dialect's encoding of the change (COPY line, parameter list), made once, reused on retry. */
  encoded?: unknown;
}

/** One statement runner inside a transaction; placeholders are the dialect's own ($1 or ?). */
export interface DialectTx {
  /**
   * `repeated`: the text is the same for every batch (not built from the batch's size), so the
   * dialect may keep it prepared on the connection: parsed and planned once, not per batch.
   */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[], repeated?: boolean): Promise<T[]>;
}

export type DeadLetterStatus = 'open' | 'parked' | 'replayed' | 'skipped';

export interface DeadLetterInsert {
  readonly tableName: string;
  readonly keyText: string;
  readonly version: bigint;
  readonly eventJson: string;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly status: 'open' | 'parked';
}

/** A dead-letter row as stored. */
export interface DeadLetterRow {
  readonly id: number;
  readonly tableName: string;
  readonly keyText: string;
  readonly version: bigint;
  readonly eventJson: string;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly status: DeadLetterStatus;
  readonly attempts: number;
  /** "YYYY-MM-DDTHH:MM:SS.ffffffZ" */
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Parked events behind this one (meaningful for open dead letters). */
  readonly parked: number;
}

export interface DeadLetterQuery {
  readonly status?: DeadLetterStatus;
  readonly tableName?: string;
  readonly limit: number;
  readonly afterId?: number;
}

export interface SinkDialect {
  readonly dialect: Dialect;
  /** Longest key text the state tables index (longer keys are dead-lettered). */
  readonly maxKeyTextLength: number;

  /** Creates the state tables (versions, checkpoints, dead letters) if missing. */
  ensureState(): Promise<void>;
  /**
   * Creates what the state needs for one target table, when the state keeps it per table (the
   * PostgreSQL family's version tables); called for each table as the sink binds it.
   */
  ensureTableState?(tableName: string): Promise<void>;
  /** The target table's schema; `keyColumns` is used when it has no primary key. */
  introspectTarget(ref: TableRef, keyColumns: readonly string[]): Promise<TableSchema>;

  /** Runs `fn` in one transaction on one connection: commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (tx: DialectTx) => Promise<T>): Promise<T>;
  savepoint(tx: DialectTx): Promise<void>;
  rollbackToSavepoint(tx: DialectTx): Promise<void>;
  releaseSavepoint(tx: DialectTx): Promise<void>;

  /**
   * Encodes a change for applyChanges; throws ValueError when a value does not fit. `batchSize`:
   * how many changes of its table it is applied with (a dialect may load few rows differently
   * from many); every change of one applyChanges call is encoded with the same batchSize.
   */
  encode(change: Change, batchSize?: number): void;
  /**
   * Applies changes of one table, at most one per key, each only if its version is newer than the
   * target's stored version for the key (set-based: the comparison is inside the statements), and
   * records the new versions (deletes keep theirs as a tombstone). Returns how many were applied.
   * `fresh`: the first use of this table in the transaction (a dialect may skip clearing a stage).
   */
  applyChanges(tx: DialectTx, binding: TableBinding, changes: readonly Change[], fresh: boolean): Promise<number>;
  /**
   * applyChanges in two steps, for dialects that stage: load the stage, then apply it. Between the
   * two the engine encodes the next slice while the database works.
   */
  stageChanges?(tx: DialectTx, binding: TableBinding, changes: readonly Change[], fresh: boolean): Promise<void>;
  applyStaged?(tx: DialectTx, binding: TableBinding, changes: readonly Change[]): Promise<number>;

  /**
   * Locks the version rows of these keys for the rest of the transaction (in the given order),
   * first creating a placeholder (version -1, below every real version) for a key never applied,
   * and returns each key's stored version. Used by repair: nothing can apply to a locked key
   * until the transaction ends.
   */
  lockVersions(tx: DialectTx, tableName: string, keyTexts: readonly string[]): Promise<Map<string, bigint>>;
  /** Sets the stored version of these keys (repair lowers it so the guarded write passes, then the write restores it). */
  setVersions(tx: DialectTx, tableName: string, keyTexts: readonly string[], version: bigint): Promise<void>;
  /**
   * Empties a target table (a source TRUNCATE): every key's stored version becomes a tombstone at
   * least `version`, so a replayed older change cannot bring a row back, then the rows go.
   */
  truncateTable(tx: DialectTx, binding: TableBinding, version: bigint): Promise<void>;
  /**
   * Which of these keys (table → key texts) have an open or parked dead letter, with the newest
   * version stored for each. A batch's first statement.
   */
  blockedKeys(
    tx: DialectTx,
    keys: ReadonlyMap<string, readonly string[]>,
  ): Promise<Array<{ tableName: string; keyText: string; maxVersion: bigint }>>;
  insertDeadLetters(tx: DialectTx, rows: readonly DeadLetterInsert[]): Promise<void>;
  writeCheckpoint(tx: DialectTx, name: string, position: string): Promise<void>;
  readCheckpoint(name: string): Promise<string | undefined>;

  listDeadLetters(q: DeadLetterQuery): Promise<DeadLetterRow[]>;
  /** One dead letter; `tx` given: locked for update until the transaction ends. */
  getDeadLetter(id: number, tx?: DialectTx): Promise<DeadLetterRow | undefined>;
  /** The parked events behind a key, oldest first, locked for update. */
  parkedBehind(tx: DialectTx, tableName: string, keyText: string): Promise<DeadLetterRow[]>;
  setDeadLetterStatus(tx: DialectTx, id: number, status: DeadLetterStatus, error?: { code: string; message: string }): Promise<void>;

  classify(err: unknown): ErrorClass;
  /** Ends what the dialect opened itself (never the caller's pool unless it was handed over). */
  close(): Promise<void>;
}
