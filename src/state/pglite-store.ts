/**
 * SqlStore on embedded PGlite (PostgreSQL compiled to WebAssembly) with its data directory on
 * disk. PGlite is a single connection: every query and transaction goes through one queue, so a
 * transaction holds the whole database until it ends. Starting it takes ~2 s and ~0.9 GB of RAM,
 * so a process should open it once and share it.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { SqlExecutor, SqlStore } from './sql-store.js';

export interface PgliteStoreOptions {
  /** Directory holding the database files; created if missing. */
  dataDir: string;
}

export async function openPgliteStore(opts: PgliteStoreOptions): Promise<SqlStore> {
  mkdirSync(opts.dataDir, { recursive: true });
  const db = await PGlite.create(opts.dataDir);
  let tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after everything queued before it, whether that succeeded or failed. */
  const serialise = <T>(task: () => Promise<T>): Promise<T> => {
    const next = tail.then(task, task);
    tail = next.catch(() => undefined);
    return next;
  };

  return {
    dialect: 'pglite',
    query: <T>(sql: string, params?: readonly unknown[]) =>
      serialise(async () => (await db.query<T>(sql, params as unknown[] | undefined)).rows),
    transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>) =>
      serialise(() =>
        db.transaction(async (t) => {
          const tx: SqlExecutor = { query: async <R>(sql: string, params?: readonly unknown[]) => (await t.query<R>(sql, params as unknown[] | undefined)).rows };
          return fn(tx);
        }),
      ),
    close: () => serialise(() => db.close()),
  };
}
