/**
 * What the sink engine (../sink.ts) asks of a dialect, and the shapes they exchange. A dialect
 * builds SQL from the metadata and encodes values: which events to apply, in which order, how a
 * table's changes are loaded (../plan.ts), what is poison and where dead letters go is decided
 * once, in the engine.
 */
import type { DeadLetterRecord, DeadLetterStatus } from '../../core/dead-letter.js';
import type { ChangeEvent } from '../../core/change-event.js';
import type { Column, TableSchema } from '../../core/table-schema.js';
import type { Dialect } from '../../metadata/types.js';
import type { ErrorClass } from '../errors.js';
import type { KeyTexter } from '../key-text.js';
import type { LoadCapabilities } from '../plan.js';
import type { MysqlTableSql } from './mysql.js';
import type { PgTableSql } from './pg-load.js';

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

/** One event to apply, resolved against its binding. At most one per key reaches a load. */
export interface Change {
  readonly event: ChangeEvent;
  readonly binding: TableBinding;
  readonly keyText: string;
  readonly version: bigint;
  readonly deleted: boolean;
}

/** Runs a statement: a transaction's (TargetTx), or a read outside one. */
export interface Query {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[], prepared?: boolean): Promise<T[]>;
}

export type { DeadLetterStatus };

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
export interface DeadLetterRow extends DeadLetterRecord {
  readonly tableName: string;
  readonly eventJson: string;
}

export interface DeadLetterQuery {
  readonly status?: DeadLetterStatus;
  readonly tableName?: string;
  readonly limit: number;
  readonly afterId?: number;
}

/** The PostgreSQL family's loads (plan.ts): statements and each change's text. */
export interface PgLoadSql {
  readonly family: 'pg';
  table(binding: TableBinding): PgTableSql;
  /** The change's row as a line of COPY text; throws ValueError. */
  copyRow(change: Change): string;
  /** The change as one element of PgTableSql.inline's JSON array; throws ValueError. */
  inlineRow(change: Change): string;
}

/** MariaDB's `rows` load: multi-row statements with bound parameters. */
export interface MysqlLoadSql {
  readonly family: 'mysql';
  /** Rows per guard statement; upserts and deletes also stay within 60,000 parameters. */
  readonly rowsPerStatement: number;
  table(binding: TableBinding): MysqlTableSql;
  /** The change's parameters (a delete: its key columns); throws ValueError. */
  params(change: Change): unknown[];
}

export type LoadSql = PgLoadSql | MysqlLoadSql;

/**
 * The statements on sluice's own tables: versions, checkpoints, dead letters. Each runs on the
 * Query given (a transaction, or a read outside one).
 */
export interface StateStatements {
  /** Creates the state tables if missing. */
  ensure(tx: Query): Promise<void>;
  /**
   * Creates what the state needs for one target table, when the state keeps it per table (the
   * PostgreSQL family's version tables); called for each table as the sink binds it.
   */
  ensureTable?(tx: Query, tableName: string): Promise<void>;
  /**
   * Whether any dead letter is open or parked: a statement without parameters, the first of an
   * apply transaction (sent with its BEGIN); its one row's `any` is true, or 1.
   */
  readonly anyBlocked: string;
  /** Which of these keys (table → key texts) have an open or parked dead letter, with the newest version stored for each. */
  blockedKeys(
    tx: Query,
    keys: ReadonlyMap<string, readonly string[]>,
  ): Promise<Array<{ tableName: string; keyText: string; maxVersion: bigint }>>;
  /**
   * Locks the version rows of these keys for the rest of the transaction (in the given order),
   * first creating a placeholder (version -1, below every real version) for a key never applied,
   * and returns each key's stored version. Used by repair: nothing can apply to a locked key
   * until the transaction ends.
   */
  lockVersions(tx: Query, tableName: string, keyTexts: readonly string[]): Promise<Map<string, bigint>>;
  /** Sets the stored version of these keys (repair lowers it so the guarded write passes, then the write restores it). */
  setVersions(tx: Query, tableName: string, keyTexts: readonly string[], version: bigint): Promise<void>;
  /**
   * Empties a target table (a source TRUNCATE): every key's stored version becomes a tombstone at
   * least `version`, so a replayed older change cannot bring a row back, then the rows go.
   */
  truncateTable(tx: Query, binding: TableBinding, version: bigint): Promise<void>;
  insertDeadLetters(tx: Query, rows: readonly DeadLetterInsert[]): Promise<void>;
  writeCheckpoint(tx: Query, name: string, position: string): Promise<void>;
  readCheckpoint(tx: Query, name: string): Promise<string | undefined>;
  listDeadLetters(tx: Query, q: DeadLetterQuery): Promise<DeadLetterRow[]>;
  /** One dead letter; `forUpdate`: locked until the transaction ends. */
  getDeadLetter(tx: Query, id: number, forUpdate: boolean): Promise<DeadLetterRow | undefined>;
  /** The parked events behind a key, oldest first, locked for update. */
  parkedBehind(tx: Query, tableName: string, keyText: string): Promise<DeadLetterRow[]>;
  setDeadLetterStatus(tx: Query, id: number, status: DeadLetterStatus, error?: { code: string; message: string }): Promise<void>;
}

/**
 * A target engine's SQL: what the sink engine (../sink.ts) needs to build statements and encode
 * values. Transactions, COPY streams and prepared statements are the driver's (../drivers/).
 */
export interface SinkDialect {
  readonly dialect: Dialect;
  /** Longest key text the state tables index (longer keys are dead-lettered). */
  readonly maxKeyTextLength: number;
  /** Which loads plan() may choose. */
  readonly loads: LoadCapabilities;
  readonly load: LoadSql;
  readonly state: StateStatements;
  classify(err: unknown): ErrorClass;
}
