// Test support: one scratch database per test file on the machine's PostgreSQL and MariaDB (random
// name, dropped after), and an in-memory PGlite. A process killed before its after hooks ran (a
// file past the runner's timeout) cannot drop its databases: their names carry the host and pid, and
// the next process here to make a scratch database drops those whose process is gone. A server
// that does not answer makes its suite skip on a laptop and fail in CI (see services.ts). Server
// settings are never changed; only session settings and objects inside the scratch database are.
//
//   const pgUp = await postgresAvailable();
//   describe('…', { skip: skipUnless(pgUp, POSTGRES_WHAT) }, () => {
//     let db: ScratchPostgres;
//     before(async () => { db = await scratchPostgres(); });
//     after(() => db.drop());
//   });
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import mysql from 'mysql2/promise';
import type { ColumnType, TableSchema } from '../../src/core/table-schema.js';

export const POSTGRES_URL = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const MYSQL_URL = process.env.SLUICE_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const POSTGRES_WHAT = `PostgreSQL at ${redact(POSTGRES_URL)}`;
export const MYSQL_WHAT = `MariaDB/MySQL at ${redact(MYSQL_URL)}`;

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 6);

function scratchName(): string {
  return `sluice_t_${HOST}_${process.pid.toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** Scratch databases of this host whose process no longer runs. */
function orphans(names: string[]): string[] {
  return names.filter((n) => {
    const m = /^sluice_t_([0-9a-f]{6})_([0-9a-z]+)_[0-9a-f]{8}$/.exec(n);
    if (!m || m[1] !== HOST) return false;
    const pid = parseInt(m[2]!, 36);
    if (pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  });
}

let sweptPostgres: Promise<void> | undefined;
let sweptMysql: Promise<void> | undefined;

function sweepPostgres(admin: pg.Client): Promise<void> {
  sweptPostgres ??= (async () => {
    const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'sluice\\_t\\_%'`);
    for (const db of orphans(rows.map((r) => r.datname))) {
      await admin
        .query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NULL`, [db])
        .catch(() => {});
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => {});
    }
  })().catch(() => {});
  return sweptPostgres;
}

function sweepMysql(admin: mysql.Connection): Promise<void> {
  sweptMysql ??= (async () => {
    const [rows] = await admin.query(`SHOW DATABASES LIKE 'sluice\\_t\\_%'`);
    for (const db of orphans((rows as Record<string, string>[]).map((r) => Object.values(r)[0]!))) {
      await admin.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => {});
    }
  })().catch(() => {});
  return sweptMysql;
}

/** True when the server answers within two seconds. */
export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function mysqlAvailable(): Promise<boolean> {
  try {
    const conn = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 2000 });
    try {
      await conn.query('SELECT 1');
      return true;
    } finally {
      await conn.end().catch(() => {});
    }
  } catch {
    return false;
  }
}

export interface ScratchPostgres {
  readonly database: string;
  readonly url: string;
  readonly pool: pg.Pool;
  /** Ends the pool and drops the database (terminating any connection left in it). */
  drop(): Promise<void>;
}

export async function scratchPostgres(opts: { max?: number } = {}): Promise<ScratchPostgres> {
  const database = scratchName();
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await sweepPostgres(admin);
    await admin.query(`CREATE DATABASE ${database} TEMPLATE template0 ENCODING 'UTF8'`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${database}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: opts.max ?? 4 });
  pool.on('error', () => {}); // an idle client killed by a test must not crash the run
  return {
    database,
    url: url.toString(),
    pool,
    async drop() {
      await pool.end().catch(() => {});
      const a = new pg.Client({ connectionString: POSTGRES_URL });
      await a.connect();
      try {
        // Log-capture tests leave replication slots, which block DROP DATABASE even when inactive.
        await a.query(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL`, [
          database,
        ]);
        await a
          .query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1`, [database])
          .catch(() => {});
        await a.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

export interface ScratchMysql {
  readonly database: string;
  readonly pool: mysql.Pool;
  drop(): Promise<void>;
}

/** A utf8mb4 database with a binary collation, so string keys compare as in PostgreSQL. */
export async function scratchMysql(opts: { connectionLimit?: number } = {}): Promise<ScratchMysql> {
  const database = scratchName();
  const admin = await mysql.createConnection({ uri: MYSQL_URL });
  try {
    await sweepMysql(admin);
    await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await admin.end();
  }
  const pool = mysql.createPool({ uri: MYSQL_URL, database, connectionLimit: opts.connectionLimit ?? 4, charset: 'utf8mb4_bin' });
  // A connection killed by a test emits 'error' on its (idle) connection; keep the run alive.
  pool.on('connection', (c) => (c as unknown as { on(e: string, f: () => void): void }).on('error', () => {}));
  return {
    database,
    pool,
    async drop() {
      await pool.end().catch(() => {});
      const a = await mysql.createConnection({ uri: MYSQL_URL });
      try {
        await a.query(`DROP DATABASE IF EXISTS \`${database}\``);
      } finally {
        await a.end();
      }
    },
  };
}

export type TestDialect = 'postgres' | 'mysql' | 'pglite';

/** Native column type for a portable one, as a test creates its target tables. */
export function nativeType(dialect: TestDialect, t: ColumnType): string {
  const pgLike = dialect !== 'mysql';
  switch (t.kind) {
    case 'boolean':
      return pgLike ? 'boolean' : 'tinyint(1)';
    case 'int16':
      return 'smallint';
    case 'int32':
      return pgLike ? 'integer' : 'int';
    case 'int64':
      return 'bigint';
    case 'float32':
      return pgLike ? 'real' : 'float';
    case 'float64':
      return pgLike ? 'double precision' : 'double';
    case 'decimal':
      return `${pgLike ? 'numeric' : 'decimal'}(${t.precision},${t.scale})`;
    case 'string':
      return t.maxLength !== undefined ? `varchar(${t.maxLength})` : pgLike ? 'text' : 'longtext';
    case 'json':
      return pgLike ? 'json' : 'json';
    case 'bytes':
      return pgLike ? 'bytea' : 'longblob';
    case 'uuid':
      return 'uuid';
    case 'date':
      return 'date';
    case 'time':
      return pgLike ? 'time(6)' : 'time(6)';
    case 'timestamp':
      return pgLike ? 'timestamp(6)' : 'datetime(6)';
    case 'timestamptz':
      return pgLike ? 'timestamptz(6)' : 'timestamp(6) NULL';
  }
}

export function quoteIdent(dialect: TestDialect, name: string): string {
  return dialect === 'mysql' ? `\`${name.replace(/`/g, '``')}\`` : `"${name.replace(/"/g, '""')}"`;
}

/** CREATE TABLE for a portable schema; `checks` are extra table constraints written natively. */
export function createTableSql(dialect: TestDialect, table: TableSchema, checks: string[] = []): string {
  const q = (n: string) => quoteIdent(dialect, n);
  const name = table.schema && dialect !== 'mysql' ? `${q(table.schema)}.${q(table.name)}` : q(table.name);
  const cols = table.columns.map((c) => {
    const type = nativeType(dialect, c.type);
    // MariaDB TIMESTAMP columns are NOT NULL with a default unless told otherwise.
    const nullability = c.nullable ? (type.endsWith('NULL') ? '' : ' NULL') : ' NOT NULL';
    return `${q(c.name)} ${type.replace(/ NULL$/, '')}${nullability}`;
  });
  const pk = `PRIMARY KEY (${table.primaryKey.map(q).join(', ')})`;
  return `CREATE TABLE ${name} (${[...cols, pk, ...checks].join(', ')})`;
}

/** True when the machine's PostgreSQL answers and runs with wal_level=logical (log-capture tests). */
export async function postgresLogicalAvailable(): Promise<boolean> {
  if (!(await postgresAvailable())) return false;
  const c = new pg.Client({ connectionString: POSTGRES_URL });
  await c.connect();
  try {
    return (await c.query('SHOW wal_level')).rows[0].wal_level === 'logical';
  } finally {
    await c.end();
  }
}
