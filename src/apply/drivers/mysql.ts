/**
 * MariaDB / MySQL through a mysql2 promise Pool. Each connection first gets MYSQL_SESSION_SQL (UTC, strict).
 * Statements marked as repeating are server-side prepared by default (`statements: 'text'`: mysql2
 * binds them client-side), measured faster in bench/apply-mysql.ts; the dialect keeps their texts
 * to a small ladder of sizes, as the server caps prepared statements (max_prepared_stmt_count).
 *
 * Apply transactions run in READ COMMITTED. Under REPEATABLE READ, InnoDB's upserts and locking
 * reads also lock the gaps next to the keys they touch; two batches whose keys interleave then
 * deadlock on each other's gaps, even with disjoint keys, and no single key order avoids that
 * across the version table (ordered by key text) and the target (ordered by its key). READ
 * COMMITTED takes record locks only (a primary-key duplicate included), and every batch locks its
 * version rows in the sink's key order before it touches a target row, so concurrent batches queue
 * on shared keys instead of deadlocking. Where the server logs statements (binlog_format=STATEMENT
 * refuses row changes under READ COMMITTED) the transaction keeps REPEATABLE READ, and says so
 * (TargetTx.readCommitted) for the dialect's guard to read FOR UPDATE.
 */
import { channel } from 'node:diagnostics_channel';
import type { Pool, PoolConnection } from 'mysql2/promise';
import type { TableRef } from '../../core/change-event.js';
import { MYSQL_SESSION_SQL, introspectMysql } from '../../metadata/mysql.js';
import { isNoPrimaryKeyError } from '../../metadata/table-errors.js';
import { classifyError } from '../errors.js';
import type { TargetConnection, TargetTx } from './types.js';

/**
 * Published on this channel each time an apply transaction fails on a transient error (the caller
 * applies the batch again): { dialect, cause, errno }. Metrics and tests count retries by cause.
 */
export const APPLY_RETRY_CHANNEL = 'sluice:apply:retry';
export type RetryCause = 'deadlock' | 'lock_wait_timeout' | 'connection' | 'other';
export interface ApplyRetryMessage {
  readonly dialect: 'mysql';
  readonly cause: RetryCause;
  readonly errno?: number;
}

const retryChannel = channel(APPLY_RETRY_CHANNEL);
const CONNECTION_ERRNOS = new Set([
  1040, 1053, 1152, 1153, 1154, 1155, 1156, 1157, 1158, 1159, 1160, 1161, 1927, 2002, 2003, 2006, 2013, 2055,
]);

function noteRetry(err: unknown): void {
  if (!retryChannel.hasSubscribers) return;
  const errno = (err as { errno?: unknown }).errno;
  const n = typeof errno === 'number' ? errno : undefined;
  const cause: RetryCause =
    n === 1213 ? 'deadlock' : n === 1205 ? 'lock_wait_timeout' : n !== undefined && CONNECTION_ERRNOS.has(n) ? 'connection' : 'other';
  retryChannel.publish({ dialect: 'mysql', cause, ...(n !== undefined ? { errno: n } : {}) } satisfies ApplyRetryMessage);
}

export interface MysqlConnectionOptions {
  /** 'prepared' (default): server-side prepared statements (execute); 'text': mysql2 binds client-side (query). */
  readonly statements?: 'prepared' | 'text';
  readonly ownsPool?: boolean;
}

type Params = Array<string | number | bigint | Buffer | null>;

class MysqlTx implements TargetTx {
  constructor(
    private readonly conn: PoolConnection,
    private readonly prepare: boolean,
    readonly readCommitted: boolean,
  ) {}

  async query<T>(sql: string, params: readonly unknown[] = [], prepared?: boolean): Promise<T[]> {
    const [rows] = prepared && this.prepare ? await this.conn.execute(sql, params as Params) : await this.conn.query(sql, params as Params);
    return (Array.isArray(rows) ? rows : []) as T[];
  }

  copyFrom(): Promise<void> {
    return Promise.reject(new Error('COPY is not available on MariaDB / MySQL'));
  }

  async once(): Promise<void> {}

  async savepoint(name: string): Promise<void> {
    await this.conn.query(`SAVEPOINT ${name}`);
  }

  async rollbackTo(name: string): Promise<void> {
    await this.conn.query(`ROLLBACK TO SAVEPOINT ${name}`);
    await this.conn.query(`RELEASE SAVEPOINT ${name}`);
  }

  async release(name: string): Promise<void> {
    await this.conn.query(`RELEASE SAVEPOINT ${name}`);
  }
}

export function mysqlConnection(pool: Pool, opts: MysqlConnectionOptions = {}): TargetConnection {
  const prepare = (opts.statements ?? 'prepared') === 'prepared';
  /** Connections that already ran MYSQL_SESSION_SQL (the underlying connection object). */
  const initialised = new WeakSet<object>();

  const withConnection = async <R>(fn: (conn: PoolConnection) => Promise<R>): Promise<R> => {
    const conn = await pool.getConnection();
    let broken = false;
    try {
      const raw = (conn as unknown as { connection: object }).connection ?? conn;
      if (!initialised.has(raw)) {
        await conn.query(MYSQL_SESSION_SQL);
        initialised.add(raw);
      }
      return await fn(conn);
    } catch (err) {
      if (classifyError(err) === 'transient') broken = true;
      throw err;
    } finally {
      if (broken) conn.destroy();
      else conn.release();
    }
  };

  /** READ COMMITTED unless the server logs statements; asked once per pool. */
  let isolation: Promise<string | undefined> | undefined;
  // Asked on the connection the transaction already holds: taking a second one from the pool here
  // deadlocks once every pooled connection is held by a transaction waiting for this answer.
  const isolationSql = (conn: PoolConnection) => {
    isolation ??= conn
      .query('SELECT @@log_bin AS logBin, @@binlog_format AS format')
      .then(([rows]) => (rows as Array<{ logBin: number | string; format: string | null }>)[0])
      .then((r) =>
        r && Number(r.logBin) === 1 && String(r.format).toUpperCase() === 'STATEMENT'
          ? undefined
          : 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED',
      )
      .catch(() => {
        isolation = undefined;
        return undefined;
      });
    return isolation;
  };

  return {
    transaction: (fn, opening) =>
      withConnection(async (conn) => {
        const level = await isolationSql(conn);
        if (level) await conn.query(level);
        await conn.beginTransaction();
        try {
          const tx = new MysqlTx(conn, prepare, level !== undefined);
          const result = await fn(tx, opening ? await tx.query(opening) : []);
          await conn.commit();
          return result;
        } catch (err) {
          try {
            await conn.rollback();
          } catch {
            // the connection is gone; withConnection destroys it (the error is transient)
          }
          if (classifyError(err) === 'transient') noteRetry(err);
          throw err;
        }
      }),

    read: <R>(sql: string, params: readonly unknown[] = []): Promise<R[]> =>
      withConnection(async (conn) => {
        const [rows] = await conn.query(sql, params as Params);
        return rows as R[];
      }),

    async introspect(ref: TableRef, keyColumns: readonly string[]) {
      try {
        return await introspectMysql(pool, ref);
      } catch (err) {
        if (isNoPrimaryKeyError(err)) return introspectMysql(pool, ref, { keyColumns });
        throw err;
      }
    },

    async close() {
      if (opts.ownsPool) await pool.end();
    },
  };
}
