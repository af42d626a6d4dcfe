/**
 * Apply: ChangeEvents → target tables by primary key, idempotent and stale-proof.
 * Flow: createSink({ dialect, connection, tables }) → Sink.apply(batch, checkpoint) → plan (park
 * keys behind dead letters, collapse each key to its newest version, choose each table's load:
 * plan.ts) → one target transaction (drivers/): the load applies it set-based under the per-key
 * version guard
 * (version rows: one table per target table on PostgreSQL and PGlite, sluice_row_versions on
 * MariaDB; tombstones for deletes) + checkpoint (sluice_checkpoints); poison events →
 * sluice_dead_letters (DeadLetters API), transient failures → retriable SluiceError, nothing applied.
 */
import type { Pool as PgPool } from 'pg';
import type { Pool as MysqlPool } from 'mysql2/promise';
import type { PGliteInterface } from '@electric-sql/pglite';
import type { TableSchema } from '../core/table-schema.js';
import { mysqlDialect } from './dialects/mysql.js';
import { pgliteDialect } from './dialects/pglite.js';
import { postgresDialect } from './dialects/postgres.js';
import { mysqlConnection, type MysqlConnectionOptions } from './drivers/mysql.js';
import { pgliteConnection } from './drivers/pglite.js';
import { postgresConnection } from './drivers/postgres.js';
import { SqlSink, type TableResolver } from './sink.js';

export type SinkTarget =
  | {
      readonly dialect: 'postgres';
      readonly connection: PgPool;
      /** Try large batches of upserts as new keys first (plan.ts; default true). */
      readonly newKeys?: boolean;
    }
  | {
      readonly dialect: 'mysql';
      readonly connection: MysqlPool;
      readonly statements?: MysqlConnectionOptions['statements'];
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
  /** close() also ends the pool / closes the PGlite instance. Default false: the caller owns it. */
  readonly ownsConnection?: boolean;
  /** Add a source's new columns to the target when its shape changes (config: target.evolve). */
  readonly evolve?: boolean;
};

export function createSink(opts: CreateSinkOptions): SqlSink {
  const own = opts.ownsConnection ?? false;
  const state = opts.stateSchema;
  const [dialect, connection] = (() => {
    switch (opts.dialect) {
      case 'postgres':
        return [
          postgresDialect({ ...(state ? { stateSchema: state } : {}), ...(opts.newKeys === false ? { newKeys: false } : {}) }),
          postgresConnection(opts.connection, { ownsPool: own }),
        ] as const;
      case 'mysql':
        return [
          mysqlDialect({
            ...(state ? { stateDatabase: state } : {}),
            ...(opts.rowsPerStatement ? { rowsPerStatement: opts.rowsPerStatement } : {}),
          }),
          mysqlConnection(opts.connection, { ...(opts.statements ? { statements: opts.statements } : {}), ownsPool: own }),
        ] as const;
      case 'pglite':
        return [pgliteDialect(state ? { stateSchema: state } : {}), pgliteConnection(opts.connection, { ownsDatabase: own })] as const;
    }
  })();
  return new SqlSink(dialect, connection, {
    ...(opts.tables ? { tables: opts.tables } : {}),
    ...(opts.resolveTable ? { resolveTable: opts.resolveTable } : {}),
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
export { eventFromJson, eventJson, eventToJson, rowToJson } from './event-json.js';
export type { SinkDialect } from './dialects/types.js';
export type { TargetConnection } from './drivers/types.js';
export { postgresConnection } from './drivers/postgres.js';
export { mysqlConnection } from './drivers/mysql.js';
export { pgliteConnection } from './drivers/pglite.js';
export { postgresDialect } from './dialects/postgres.js';
export { mysqlDialect } from './dialects/mysql.js';
export { pgliteDialect } from './dialects/pglite.js';
