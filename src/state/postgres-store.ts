/**
 * SqlStore on PostgreSQL through a `pg.Pool`. Every transaction takes its own pooled connection,
 * so concurrent transactions run concurrently; writers that must not interleave take an advisory
 * lock inside their transaction (see registry/store).
 */
import pg from 'pg';
import type { SqlExecutor, SqlStore } from './sql-store.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** Pool size; the registry needs few connections. */
  maxConnections?: number;
}

export function openPostgresStore(opts: PostgresStoreOptions): SqlStore {
  const pool = new pg.Pool({ connectionString: opts.url, max: opts.maxConnections ?? 10 });
  // An idle client losing its connection emits 'error' on the pool; without a listener the
  // process would crash. The next query gets a fresh connection.
  pool.on('error', () => {});

  const run = async <T>(ex: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]): Promise<T[]> => {
    const res = await ex.query(sql, params as unknown[] | undefined);
    return res.rows as T[];
  };

  return {
    dialect: 'postgres',
    query: <T>(sql: string, params?: readonly unknown[]) => run<T>(pool, sql, params),
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const tx: SqlExecutor = { query: <R>(sql: string, params?: readonly unknown[]) => run<R>(client, sql, params) };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // the connection is unusable: destroy it rather than return it to the pool
        }
        throw err;
      } finally {
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
