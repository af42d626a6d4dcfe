/**
 * SqlStore on embedded PGlite (PostgreSQL compiled to WebAssembly) with its data directory on
 * disk. PGlite is a single connection: every query and transaction goes through one queue, so a
 * transaction holds the whole database until it ends. Starting it takes ~2 s and ~0.9 GB of RAM,
 * so a process should open it once and share it.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { SluiceError } from '../core/errors.js';
import type { SqlExecutor, SqlStore } from './sql-store.js';

export interface PgliteStoreOptions {
  /** Directory holding the database files; created if missing. */
  dataDir: string;
}

export async function openPgliteStore(opts: PgliteStoreOptions): Promise<SqlStore> {
  mkdirSync(opts.dataDir, { recursive: true });
  const unlock = lockDataDir(opts.dataDir);
  let db: PGlite;
  try {
    db = await PGlite.create(opts.dataDir);
  } catch (err) {
    unlock();
    throw err;
  }
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
          const tx: SqlExecutor = {
            query: async <R>(sql: string, params?: readonly unknown[]) => (await t.query<R>(sql, params as unknown[] | undefined)).rows,
          };
          return fn(tx);
        }),
      ),
    close: () =>
      serialise(async () => {
        await db.close();
        unlock();
      }),
  };
}

/**
 * Two processes opening one PGlite directory corrupt it (each is a whole PostgreSQL with no
 * shared locking), so the directory carries a lock file with the owner's pid; a lock whose process
 * is gone is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, 'sluice.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new SluiceError(
          'SLUICE_ERR_STORE',
          `The state store in ${dataDir} is in use by process ${owner}: an embedded store serves one process (set state.url to share a PostgreSQL one; if no sluice process has it open, remove ${file})`,
          { context: { configPath: 'state' } },
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new SluiceError('SLUICE_ERR_STORE', `Could not lock the state store in ${dataDir}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
