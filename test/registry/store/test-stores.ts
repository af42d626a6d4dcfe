/**
 * State stores for tests: PGlite in a temporary directory (one per test file: it takes ~2 s and
 * ~0.9 GB to start), and scratch databases on the test PostgreSQL
 * (`SLUICE_TEST_PG`, default postgres://postgres@127.0.0.1:5432/postgres). When PostgreSQL cannot
 * be reached the tests using it are skipped with a message, unless CI is set: then they fail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStateStore, type SqlStore } from '../../../src/state/index.js';

export const TEST_PG_URL = process.env.SLUICE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TempPglite {
  store: SqlStore;
  dataDir: string;
  /** Closes the store (if still open) and removes the directory. */
  cleanup(): Promise<void>;
}

export function tempDir(prefix = 'sluice-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function tempPglite(): Promise<TempPglite> {
  const dataDir = tempDir();
  const store = await openStateStore({ dataDir });
  let closed = false;
  return {
    store,
    dataDir,
    async cleanup() {
      if (!closed) {
        closed = true;
        await store.close().catch(() => {});
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new empty database on the test server, or the reason it cannot be had (only outside CI). */
export async function scratchPostgres(): Promise<ScratchDatabase | { skip: string }> {
  const admin = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (err) {
    const reason = `PostgreSQL unreachable at ${redact(TEST_PG_URL)} (${(err as Error).message}); set SLUICE_TEST_PG`;
    await admin.end().catch(() => {});
    if (process.env.CI) throw new Error(reason);
    return { skip: reason };
  }
  const name = `sluice_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
