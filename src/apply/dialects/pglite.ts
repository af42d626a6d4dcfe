/**
 * Embedded PGlite: PostgreSQL's SQL (pg-family.ts) on one in-process connection. PGlite queues
 * every query and transaction itself (a transaction holds the database until it ends), so the
 * sink needs no lock of its own; it must never call the instance inside its own transaction.
 *
 * The stage is loaded with `COPY … FROM '/dev/blob'` (PGlite's way to feed COPY): measured ≈1.8×
 * multi-row INSERT … VALUES with parameters on 50k rows (111k vs 62k rows/s).
 */
import type { PGliteInterface, Transaction } from '@electric-sql/pglite';
import type { TableRef } from '../../core/change-event.js';
import { introspectPglite, pgliteQueryOptions } from '../../metadata/pglite.js';
import { isNoPrimaryKeyError } from '../../metadata/table-errors.js';
import {
  PG_RELEASE,
  PG_ROLLBACK_TO,
  PG_SAVEPOINT,
  copyChunks,
  encodeCopyLine,
  pgEnsureTableState,
  pgStateDdl,
  pgStateNames,
  pgSharedParts,
  pgTableSql,
} from './pg-family.js';
import type { DialectTx, SinkDialect } from './types.js';

export interface PgliteDialectOptions {
  readonly stateSchema?: string;
  /** Close the PGlite instance on close(). */
  readonly ownsDatabase?: boolean;
}

class PgliteTx implements DialectTx {
  constructor(readonly tx: Transaction) {}
  async query<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return (await this.tx.query<T>(sql, params as unknown[] | undefined, pgliteQueryOptions)).rows;
  }
}

export function pgliteDialect(db: PGliteInterface, opts: PgliteDialectOptions = {}): SinkDialect {
  const names = pgStateNames(opts.stateSchema);
  /** Stage tables created in this (single) session. */
  const stages = new Set<string>();
  const dbQuery = async <T>(sql: string, params?: readonly unknown[]): Promise<T[]> =>
    (await db.query<T>(sql, params as unknown[] | undefined, pgliteQueryOptions)).rows;

  const transaction = async <T>(fn: (tx: DialectTx) => Promise<T>): Promise<T> => {
    try {
      return await db.transaction((t) => fn(new PgliteTx(t)));
    } catch (err) {
      stages.clear(); // a stage created in the rolled-back transaction is gone
      throw err;
    }
  };

  return {
    dialect: 'pglite',
    maxKeyTextLength: 2000,

    async ensureState() {
      await transaction(async (tx) => {
        for (const ddl of pgStateDdl(names, opts.stateSchema)) await tx.query(ddl);
      });
    },

    async ensureTableState(tableName: string) {
      await transaction((tx) => pgEnsureTableState(tx, names, tableName));
    },

    async introspectTarget(ref: TableRef, keyColumns: readonly string[]) {
      try {
        return await introspectPglite(db, ref);
      } catch (err) {
        if (isNoPrimaryKeyError(err)) return introspectPglite(db, ref, { keyColumns });
        throw err;
      }
    },

    transaction,
    savepoint: async (tx) => void (await tx.query(PG_SAVEPOINT)),
    rollbackToSavepoint: async (tx) => {
      stages.clear(); // a stage created after the savepoint is gone with it
      await tx.query(PG_ROLLBACK_TO);
      await tx.query(PG_RELEASE);
    },
    releaseSavepoint: async (tx) => void (await tx.query(PG_RELEASE)),

    encode: encodeCopyLine,

    async stageChanges(tx, binding, changes, fresh) {
      const { tx: t } = tx as PgliteTx;
      const sql = pgTableSql(binding, names);
      if (!stages.has(sql.stage)) {
        await t.query(sql.createStage);
        stages.add(sql.stage);
      }
      if (!fresh) await t.query(sql.truncateStage);
      if (changes.length === 0) return;
      await t.query(`COPY ${sql.stageColumns} FROM '/dev/blob'`, [], { blob: new Blob([...copyChunks(changes)]) });
    },

    async applyChanges(tx, binding, changes, fresh) {
      if (changes.length === 0) return 0;
      await this.stageChanges!(tx, binding, changes, fresh);
      return this.applyStaged!(tx, binding, changes);
    },

    ...pgSharedParts(names, dbQuery),
    async close() {
      if (opts.ownsDatabase) await db.close();
    },
  };
}
