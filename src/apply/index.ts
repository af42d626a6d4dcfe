/**
 * Apply: ChangeEvents → target tables by primary key, idempotent and stale-proof.
 * Flow: createSink({ dialect, connection, tables }) → Sink.apply(batch, checkpoint) → plan (park
 * keys behind dead letters, collapse each key to its newest version) → one target transaction:
 * dialect stages the batch and applies it set-based under the per-key version guard
 * (version rows: one table per target table on PostgreSQL and PGlite, sluice_row_versions on
 * MariaDB; tombstones for deletes) + checkpoint (sluice_checkpoints); poison events →
 * sluice_dead_letters (DeadLetters API), transient failures → retriable SluiceError, nothing applied.
 */
import type { Pool as PgPool } from 'pg';
import type { Pool as MysqlPool } from 'mysql2/promise';
import type { PGliteInterface } from '@electric-sql/pglite';
import type { TableSchema } from '../core/table-schema.js';
import { mysqlDialect, type MysqlDialectOptions } from './dialects/mysql.js';
import { pgliteDialect } from './dialects/pglite.js';
import { postgresDialect, type PostgresDialectOptions } from './dialects/postgres.js';
import { SqlSink, type TableResolver } from './sink.js';

export type SinkTarget =
  | {
      readonly dialect: 'postgres';
      readonly connection: PgPool;
      readonly stageLoad?: PostgresDialectOptions['stageLoad'];
      readonly newKeys?: boolean;
    }
  | {
      readonly dialect: 'mysql';
      readonly connection: MysqlPool;
      readonly statements?: MysqlDialectOptions['statements'];
      readonly rowsPerStatement?: number;
    }
  | { readonly dialect: 'pglite'; readonly connection: PGliteInterface };

export type CreateSinkOptions = SinkTarget & {
  /** Source tables whose events the sink applies (the events' TableSchemas). */
  readonly tables?: readonly TableSchema[];
  /** Source table → target table (default: same schema and name). */
  readonly resolveTable?: TableResolver;
  /** Schema (PostgreSQL, PGlite) or database (MariaDB) of sluice's own tables; default: the connection's. */
  readonly stateSchema?: string;
  /** Changes per staged statement within a batch (default 10,000; see bench/apply-postgres.ts). */
  readonly sliceSize?: number;
  /** close() also ends the pool / closes the PGlite instance. Default false: the caller owns it. */
  readonly ownsConnection?: boolean;
  /** Add a source's new columns to the target when its shape changes (config: target.evolve). */
  readonly evolve?: boolean;
};

export function createSink(opts: CreateSinkOptions): SqlSink {
  const own = opts.ownsConnection ?? false;
  const state = opts.stateSchema;
  const dialect = (() => {
    switch (opts.dialect) {
      case 'postgres':
        return postgresDialect(opts.connection, {
          ...(state ? { stateSchema: state } : {}),
          ...(opts.stageLoad ? { stageLoad: opts.stageLoad } : {}),
          ...(opts.newKeys === false ? { newKeys: false } : {}),
          ownsPool: own,
        });
      case 'mysql':
        return mysqlDialect(opts.connection, {
          ...(state ? { stateDatabase: state } : {}),
          ...(opts.statements ? { statements: opts.statements } : {}),
          ...(opts.rowsPerStatement ? { rowsPerStatement: opts.rowsPerStatement } : {}),
          ownsPool: own,
        });
      case 'pglite':
        return pgliteDialect(opts.connection, { ...(state ? { stateSchema: state } : {}), ownsDatabase: own });
    }
  })();
  return new SqlSink(dialect, {
    ...(opts.tables ? { tables: opts.tables } : {}),
    ...(opts.resolveTable ? { resolveTable: opts.resolveTable } : {}),
    ...(opts.sliceSize ? { sliceSize: opts.sliceSize } : {}),
    evolve: opts.evolve ?? false,
  });
}

export { SqlSink } from './sink.js';
export type { SqlSinkOptions, TableResolver, ApplyBatchMessage, RepairResult } from './sink.js';
export type {
  DeadLetters,
  DeadLetterDetail,
  DeadLetterSummary,
  DeadLetterStatus,
  DrainResult,
  ListDeadLettersOptions,
} from './dead-letters.js';
export { APPLY_ERROR_CODE, classifyError, type ErrorClass } from './errors.js';
export { keyTexter } from './key-text.js';
export { eventFromJson, eventToJson } from './event-json.js';
export type { SinkDialect } from './dialects/types.js';
export { postgresDialect } from './dialects/postgres.js';
export { mysqlDialect } from './dialects/mysql.js';
export { pgliteDialect } from './dialects/pglite.js';
