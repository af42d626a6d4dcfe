/**
 * One side of a comparison: a table in one database, the columns compared (by the source's
 * names, typed as this side declares them, each with the source's type as its logical type) and
 * a small set of sessions prepared for canonical text (canonicalSessionSql). Reconcile keeps its
 * own sessions rather than borrowing the pipeline's at random, because canonical output depends
 * on session settings (float digits, time zone) that must hold for every query of the run.
 */
import type { Pool as PgPool, PoolClient } from 'pg';
import type { Pool as MysqlPool, PoolConnection } from 'mysql2/promise';
import type { PGliteInterface } from '@electric-sql/pglite';
import type { Column, TableSchema } from '../core/table-schema.js';
import { SluiceError } from '../core/errors.js';
import { qualifiedMysql, qualifiedPg } from '../metadata/sql-names.js';
import type { DbConnection } from '../metadata/types.js';
import { canonicalSessionSql, type CanonicalColumn, type SqlFamily } from './canonical.js';
import type { ReconcileStats } from './report.js';

export interface Side {
  readonly role: 'source' | 'target';
  readonly family: SqlFamily;
  readonly table: TableSchema;
  /** Quoted, qualified table name. */
  readonly tableSql: string;
  /** The compared columns in the source's order, with this side's types and the source's as logical. */
  readonly columns: readonly CanonicalColumn[];
  readonly keyColumns: readonly CanonicalColumn[];
  query<T = Record<string, unknown>>(sql: string, params: readonly unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface OpenSideOptions {
  readonly role: 'source' | 'target';
  readonly conn: DbConnection;
  readonly table: TableSchema;
  /** Column names compared, in order (the source's columns). */
  readonly columns: readonly string[];
  readonly keyColumns: readonly string[];
  /**
   * The source table's columns: their types decide every column's canonical text on both sides
   * (canonical.ts), so a uuid in a CHAR(36) reads as a uuid. Default: this side's own types.
   */
  readonly logical?: readonly Column[];
  readonly stats: ReconcileStats;
  /** Sessions used at once (a range checksum and a row merge can overlap). Default 2. */
  readonly sessions?: number;
  /** Checked before every query: an aborted run stops at the next one. */
  readonly signal?: AbortSignal;
}

export function openSide(o: OpenSideOptions): Side {
  const pick = (name: string): CanonicalColumn => {
    const c = o.table.columns.find((x) => x.name === name);
    if (!c)
      throw new SluiceError('SLUICE_ERR_SCHEMA_INVALID', `${o.role} table ${o.table.name} has no column "${name}" to compare`, {
        context: { table: o.table.name, field: name },
      });
    const logical = o.logical?.find((x) => x.name === name)?.type;
    return logical ? { ...c, logical } : c;
  };
  const family: SqlFamily = o.conn.dialect === 'mysql' ? 'mysql' : 'pg';
  const runner = sessionRunner(o.conn, family, o.sessions ?? 2);
  return {
    role: o.role,
    family,
    table: o.table,
    tableSql: family === 'mysql' ? qualifiedMysql(o.table) : qualifiedPg(o.table),
    columns: o.columns.map(pick),
    keyColumns: o.keyColumns.map(pick),
    async query<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
      o.signal?.throwIfAborted();
      o.stats.queries++;
      const rows = await runner.run<T>(sql, params);
      o.stats.bytes += approximateBytes(rows as unknown[]);
      return rows;
    },
    close: () => runner.close(),
  };
}

interface Runner {
  run<T>(sql: string, params: readonly unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** Up to `size` sessions, each prepared once; queries wait for a free one. */
function sessionRunner(conn: DbConnection, family: SqlFamily, size: number): Runner {
  // work_mem: PostgreSQL cannot estimate how few buckets a range has, and with the default 4 MB
  // it sorts the rows on disk to group them instead of hashing a few thousand groups. jit: no gain
  // on these statements, and compiling a composite key's bucket CASE took seconds per range.
  // No parallel workers: reconcile runs beside production traffic and keeps to one core per
  // session; the walk overlaps source and target instead. On 2 cores, two workers per ~100 ms
  // range query spent about 10% more CPU per pass than serial queries (3.1 vs 2.8 core-seconds
  // for 1M rows a side) and finished no sooner.
  const session = [
    ...canonicalSessionSql(family),
    ...(family === 'pg' ? ["SET work_mem = '64MB'", 'SET jit = off', 'SET max_parallel_workers_per_gather = 0'] : []),
  ];
  if (conn.dialect === 'pglite') {
    // One connection shared with the rest of the process: settings are SET LOCAL inside a
    // transaction per query, so nothing leaks into the application's session.
    const db = conn.connection as PGliteInterface;
    const local = session.map((s) => s.replace(/^\s*SET\s+/i, 'SET LOCAL '));
    return {
      run: <T>(sql: string, params: readonly unknown[]) =>
        db.transaction(async (tx) => {
          for (const s of local) await tx.query(s);
          return (await tx.query<T>(sql, params as unknown[])).rows;
        }),
      close: async () => {},
    };
  }
  // The sessions are borrowed from the caller's pool (the pipeline's, under `sluice run`): every
  // setting goes back to the server's default before a session is returned, so the pipeline never
  // runs with reconcile's work_mem or time zone.
  const reset = session.map((s) => {
    const name = /^\s*SET\s+(\w+)/i.exec(s)![1]!;
    return family === 'pg' ? `RESET ${name}` : `SET ${name} = DEFAULT`;
  });
  type Handle = { query(sql: string, params: readonly unknown[]): Promise<unknown[]>; release(): Promise<void> };
  const open = async (): Promise<Handle> => {
    if (conn.dialect === 'postgres') {
      const client: PoolClient = await (conn.connection as PgPool).connect();
      for (const s of session) await client.query(s);
      return {
        query: async (sql, params) => (await client.query(sql, params as unknown[])).rows,
        release: async () => {
          let broken: Error | undefined;
          for (const s of reset)
            await client.query(s).catch((err: Error) => {
              broken = err;
            });
          client.release(broken);
        },
      };
    }
    const c: PoolConnection = await (conn.connection as MysqlPool).getConnection();
    for (const s of session) await c.query(s);
    return {
      query: async (sql, params) => (await c.query(sql, params as unknown[]))[0] as unknown[],
      release: async () => {
        let broken = false;
        for (const s of reset)
          await c.query(s).catch(() => {
            broken = true;
          });
        if (broken) c.destroy();
        else c.release();
      },
    };
  };
  const idle: Handle[] = [];
  const all: Promise<Handle>[] = [];
  const waiting: Array<(h: Handle) => void> = [];
  const acquire = async (): Promise<Handle> => {
    const h = idle.pop();
    if (h) return h;
    if (all.length < size) {
      const p = open();
      all.push(p);
      p.catch(() => all.splice(all.indexOf(p), 1));
      return p;
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  const release = (h: Handle) => {
    const w = waiting.shift();
    if (w) w(h);
    else idle.push(h);
  };
  return {
    async run<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
      const h = await acquire();
      try {
        return (await h.query(sql, params)) as T[];
      } finally {
        release(h);
      }
    },
    async close() {
      for (const p of all.splice(0)) await (await p.catch(() => undefined))?.release();
      idle.length = 0;
    },
  };
}

function approximateBytes(rows: readonly unknown[]): number {
  let n = 0;
  for (const r of rows) {
    for (const v of Object.values(r as Record<string, unknown>)) n += typeof v === 'string' ? v.length : v instanceof Buffer ? v.length : 8;
  }
  return n;
}

/**
 * Fails early, naming the column, when this side cannot make a column's canonical text: JSON on
 * MariaDB is compared through JSON_NORMALIZE (MariaDB 10.7+; MySQL has none).
 */
export async function checkCanonicalSupport(side: Side): Promise<void> {
  if (side.family !== 'mysql') return;
  const json = side.columns.find((c) => (c.logical ?? c.type).kind === 'json');
  if (!json) return;
  try {
    await side.query("SELECT JSON_NORMALIZE('{}') AS j", []);
  } catch (err) {
    throw new SluiceError(
      'SLUICE_ERR_SCHEMA_INVALID',
      `${side.role} table ${side.table.name}: column "${json.name}" holds JSON, which reconcile compares by value with JSON_NORMALIZE, and this server has none (MariaDB 10.7 or newer has it): ${(err as Error).message}`,
      { cause: err, context: { table: side.table.name, field: json.name } },
    );
  }
}
