// Reconcile across every source → target column pairing apply writes into: PostgreSQL → MariaDB,
// MariaDB → PostgreSQL and PostgreSQL → PostgreSQL. Apply binds a target table by column names and
// key only (SqlSink.bind) and writes each value as the source column's portable type, so any target
// column the database accepts that value in is a pairing; these are the natural ones per portable
// type plus the ones that cross kinds (a uuid into CHAR(36), a boolean into TINYINT, JSON into
// LONGTEXT or text, an integer into DECIMAL, a timestamptz into DATETIME or timestamp …).
//
// Per direction, one wide table, rows written to both sides through sluice's own sink (exactly what
// replication writes), then:
//   - identical data: zero drift;
//   - the target's JSON rewritten by hand with other key order, whitespace and number spelling (as
//     an initial load or a manual fix would): still zero drift, JSON compares by value;
//   - one planted difference per column, each in its own row (a NULL made a value, or the smallest
//     change of the value): exactly those rows are different, nothing missing or extra;
//   - --repair fixes them through the version guard, and a second run is in sync.
// A table keyed by a uuid that is a CHAR(36) on MariaDB is compared the same way (keys too).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import type mysql from 'mysql2/promise';
import type { ColumnType, ColumnValue, Row, TableSchema } from '../../src/core/table-schema.js';
import { createSink, type SqlSink } from '../../src/apply/index.js';
import { introspect, MYSQL_SESSION_SQL } from '../../src/metadata/index.js';
import { canonicalFloat32 } from '../../src/core/portable-values.js';
import type { DbConnection } from '../../src/metadata/types.js';
import { reconcile } from '../../src/reconcile/reconcile.js';
import type { TableReport } from '../../src/reconcile/report.js';
import { MYSQL_WHAT, mysqlAvailable, POSTGRES_WHAT, postgresAvailable, scratchMysql, scratchPostgres } from '../support/databases.js';
import { skipUnless } from '../support/services.js';
import { prng } from '../support/prng.js';

const pgUp = await postgresAvailable();
const myUp = await mysqlAvailable();
const ROWS = 150;

type Rnd = () => number;
type Gen = (r: Rnd) => ColumnValue;

interface Pairing {
  readonly col: string;
  /** Native column types, source then target. */
  readonly src: string;
  readonly dst: string;
  /** Values for the source column (default: by the source's portable type). */
  readonly gen?: Gen;
  /** A different value that fits both columns (default: by the portable type). */
  readonly nudge?: (v: ColumnValue, r: Rnd) => ColumnValue;
}

// --- values ------------------------------------------------------------------------------------

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const int = (r: Rnd, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const hex = (r: Rnd, n: number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');
const pick = <T>(r: Rnd, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const uuid = (r: Rnd) => `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-a${hex(r, 3)}-${hex(r, 12)}`;
const fraction = (r: Rnd, digits: number) => (digits ? `.${pad(Math.floor(r() * 10 ** digits), digits)}` : '');
const STRINGS = ['plain', 'ünïcødé ✓', 'emoji 🚀', 'a|b', '\\N', 'tab\tnew\nline', 'quote\'"', '1:a', ''];

function doc(r: Rnd): string {
  // Numbers whose ×10 is exact in JS, so respell() can write them another way; deeper than the
  // nested levels of the PostgreSQL JSON expression, so its recursive part is crossed too.
  const deep = { z: [1, { b: 2.5, a: [true, null] }], y: { x: { w: { v: pick(r, STRINGS) } } } };
  return JSON.stringify({
    k: hex(r, 5),
    n: int(r, -100, 100),
    f: pick(r, [2.5, 0.125, -3.75]),
    arr: [1, 2.5, null, 'é|'],
    nested: r() < 0.5 ? deep : {},
    bb: r() < 0.5,
  });
}

function decimal(r: Rnd, precision: number, scale: number, unsigned = false): string {
  const ints = Math.max(1, precision - scale);
  const i = Array.from({ length: int(r, 1, ints) }, () => String(int(r, 0, 9)))
    .join('')
    .replace(/^0+(?=\d)/, '');
  const sign = !unsigned && r() < 0.3 && i !== '0' ? '-' : '';
  return `${sign}${i}${fraction(r, scale)}`;
}

function byType(t: ColumnType): Gen {
  switch (t.kind) {
    case 'boolean':
      return (r) => r() < 0.5;
    case 'int16':
      return (r) => int(r, -30000, 30000);
    case 'int32':
      return (r) => int(r, -2e9, 2e9);
    case 'int64':
      return (r) => BigInt(int(r, -(2 ** 52), 2 ** 52)) * 1000n + BigInt(int(r, 0, 999));
    // As sluice reads a float32: the shortest decimal that rounds to it (0.1, not 0.10000000149…).
    case 'float32':
      return (r) => canonicalFloat32((r() - 0.5) * 10 ** int(r, -6, 6));
    case 'float64':
      return (r) => (r() - 0.5) * 10 ** int(r, -20, 20);
    case 'decimal':
      return (r) => decimal(r, t.precision, t.scale);
    case 'string':
      return (r) => [...(pick(r, STRINGS) + hex(r, 3))].slice(0, t.maxLength ?? 40).join('');
    case 'json':
      return doc;
    case 'bytes':
      return (r) => Buffer.from(hex(r, 2 * int(r, 1, 24)), 'hex');
    case 'uuid':
      return uuid;
    case 'date':
      return (r) => `${int(r, 1900, 2099)}-${pad(int(r, 1, 12), 2)}-${pad(int(r, 1, 28), 2)}`;
    case 'time':
      return (r) => `${pad(int(r, 0, 23), 2)}:${pad(int(r, 0, 59), 2)}:${pad(int(r, 0, 59), 2)}${fraction(r, 6)}`;
    case 'timestamp':
      return (r) => `2024-${pad(int(r, 1, 12), 2)}-${pad(int(r, 1, 28), 2)}T10:20:30${fraction(r, 6)}`;
    case 'timestamptz':
      return (r) => `2025-${pad(int(r, 1, 12), 2)}-${pad(int(r, 1, 28), 2)}T01:02:03${fraction(r, 6)}Z`;
  }
}

/** The smallest change that is a different value of the column's portable type. */
function nudgeByType(t: ColumnType, v: ColumnValue): ColumnValue {
  switch (t.kind) {
    case 'boolean':
      return !v;
    case 'int16':
    case 'int32':
      return (v as number) > 0 ? (v as number) - 1 : (v as number) + 1;
    case 'int64':
      return (v as bigint) > 0n ? (v as bigint) - 1n : (v as bigint) + 1n;
    case 'float32':
    case 'float64': {
      const f = t.kind === 'float32' ? new Float32Array([v as number]) : new Float64Array([v as number]);
      if (t.kind === 'float32')
        new Uint32Array(f.buffer)[0]! -= 1; // one ulp towards zero
      else new BigUint64Array(f.buffer)[0]! -= 1n;
      return t.kind === 'float32' ? canonicalFloat32(f[0]!) : f[0]!;
    }
    case 'decimal':
      return (v as string).replace(/\d$/, (d) => String(d === '0' ? 1 : Number(d) - 1));
    case 'string':
      return v === '' ? 'x' : `${(v as string).startsWith('a') ? 'b' : 'a'}${(v as string).slice(1)}`;
    case 'json':
      return JSON.stringify({ ...JSON.parse(v as string), n: 1000 });
    case 'bytes':
      return Buffer.from((v as Buffer).map((b, i, a) => (i === a.length - 1 ? b ^ 1 : b)));
    case 'uuid':
      return (v as string).replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
    case 'date':
      return (v as string).replace(/-(\d\d)$/, (_, d) => `-${pad((Number(d) % 28) + 1, 2)}`);
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return (v as string).replace(/(\d)(Z?)$/, (_, d, z) => `${(Number(d) + 1) % 10}${z}`);
  }
}

/** The same document spelled otherwise: keys reversed, spaces, 1 as 1.00, 2.5 as 25e-1. */
function respell(text: string): string {
  const w = (x: unknown): string => {
    if (typeof x === 'number') return Number.isInteger(x) ? `${x}.00` : `${x * 10}e-1`;
    if (Array.isArray(x)) return `[ ${x.map(w).join(' ,\n ')} ]`;
    if (x && typeof x === 'object')
      return `{ ${Object.entries(x)
        .reverse()
        .map(([k, v]) => `${JSON.stringify(k)} :  ${w(v)}`)
        .join(' , ')} }`;
    return JSON.stringify(x);
  };
  return w(JSON.parse(text));
}

// --- pairings ----------------------------------------------------------------------------------

const year: Gen = (r) => int(r, 1901, 2155);
const ts3: Gen = (r) => `2024-${pad(int(r, 1, 12), 2)}-${pad(int(r, 1, 28), 2)}T10:20:30${fraction(r, 3)}`;
const time3: Gen = (r) => `${pad(int(r, 0, 23), 2)}:${pad(int(r, 0, 59), 2)}:${pad(int(r, 0, 59), 2)}${fraction(r, 3)}`;
const choice = (xs: readonly string[]) => ({
  gen: (r: Rnd) => pick(r, xs),
  nudge: (v: ColumnValue) => xs[(xs.indexOf(v as string) + 1) % xs.length]!,
});
const MOODS = ['sad', 'ok', 'happy'];
// A PostgreSQL numeric without precision is a string column: its text is compared ('1.50').
const numericText = {
  gen: (r: Rnd) => decimal(r, 16, 4),
  nudge: (v: ColumnValue) => nudgeByType({ kind: 'decimal', precision: 16, scale: 4 }, v),
};

const PG_TO_MARIADB: readonly Pairing[] = [
  { col: 'b_t1', src: 'boolean', dst: 'tinyint(1)' },
  { col: 'b_bit', src: 'boolean', dst: 'bit(1)' },
  { col: 'b_ti', src: 'boolean', dst: 'tinyint' },
  { col: 'i16', src: 'smallint', dst: 'smallint' },
  { col: 'i16_int', src: 'smallint', dst: 'int' },
  { col: 'i32', src: 'integer', dst: 'int' },
  { col: 'i32_big', src: 'integer', dst: 'bigint' },
  { col: 'i64', src: 'bigint', dst: 'bigint' },
  { col: 'i64_dec', src: 'bigint', dst: 'decimal(20,0)' },
  { col: 'f32', src: 'real', dst: 'float' },
  { col: 'f32_dbl', src: 'real', dst: 'double' },
  { col: 'f64', src: 'double precision', dst: 'double' },
  { col: 'dec', src: 'numeric(18,6)', dst: 'decimal(18,6)' },
  { col: 'dec_wide', src: 'numeric(10,2)', dst: 'decimal(14,4)' },
  { col: 'num_txt', src: 'numeric', dst: 'varchar(80)', ...numericText },
  { col: 'txt', src: 'text', dst: 'longtext' },
  { col: 'txt_vc', src: 'text', dst: 'varchar(200)' },
  { col: 'vc', src: 'varchar(40)', dst: 'varchar(40)' },
  { col: 'ch', src: 'char(8)', dst: 'char(8)' },
  { col: 'mood', src: 'mood', dst: "enum('sad','ok','happy')", ...choice(MOODS) },
  { col: 'jb_json', src: 'jsonb', dst: 'json' },
  { col: 'jb_text', src: 'jsonb', dst: 'longtext' },
  { col: 'js_json', src: 'json', dst: 'json' },
  { col: 'by', src: 'bytea', dst: 'longblob' },
  { col: 'by_vb', src: 'bytea', dst: 'varbinary(64)' },
  { col: 'u', src: 'uuid', dst: 'uuid' },
  { col: 'u_ch', src: 'uuid', dst: 'char(36)' },
  { col: 'u_vc', src: 'uuid', dst: 'varchar(36)' },
  { col: 'd', src: 'date', dst: 'date' },
  { col: 'tm', src: 'time(6)', dst: 'time(6)' },
  { col: 'tm3', src: 'time(3)', dst: 'time(6)', gen: time3 },
  { col: 'ts', src: 'timestamp(6)', dst: 'datetime(6)' },
  { col: 'ts3', src: 'timestamp(3)', dst: 'datetime(6)', gen: ts3 },
  { col: 'tz_ts', src: 'timestamptz(6)', dst: 'timestamp(6) NULL' },
  { col: 'tz_dt', src: 'timestamptz(6)', dst: 'datetime(6)' },
];

const MARIADB_TO_PG: readonly Pairing[] = [
  { col: 'b_t1', src: 'tinyint(1)', dst: 'boolean' },
  { col: 'b_bit', src: 'bit(1)', dst: 'boolean' },
  { col: 'ti', src: 'tinyint', dst: 'smallint', gen: (r) => int(r, -128, 127) },
  { col: 'si', src: 'smallint', dst: 'smallint' },
  { col: 'si_u', src: 'smallint unsigned', dst: 'integer', gen: (r) => int(r, 0, 65535) },
  { col: 'mi', src: 'mediumint', dst: 'integer', gen: (r) => int(r, -8388608, 8388607) },
  { col: 'i', src: 'int', dst: 'integer' },
  { col: 'i_big', src: 'int', dst: 'bigint' },
  { col: 'iu', src: 'int unsigned', dst: 'bigint', gen: (r) => BigInt(int(r, 0, 4294967295)) },
  { col: 'bi', src: 'bigint', dst: 'bigint' },
  { col: 'biu', src: 'bigint unsigned', dst: 'numeric(20,0)', gen: (r) => pick(r, ['18446744073709551615', '0', decimal(r, 19, 0, true)]) },
  { col: 'yr', src: 'year', dst: 'smallint', gen: year, nudge: (v) => ((v as number) > 1901 ? (v as number) - 1 : 1902) },
  { col: 'f32', src: 'float', dst: 'real' },
  { col: 'f32_dbl', src: 'float', dst: 'double precision' },
  { col: 'f64', src: 'double', dst: 'double precision' },
  { col: 'dec', src: 'decimal(18,6)', dst: 'numeric(18,6)' },
  { col: 'dec_num', src: 'decimal(10,2)', dst: 'numeric' },
  { col: 'vc', src: 'varchar(40)', dst: 'varchar(40)' },
  { col: 'vc_txt', src: 'varchar(40)', dst: 'text' },
  { col: 'ch', src: 'char(8)', dst: 'char(8)' },
  { col: 'tx', src: 'text', dst: 'text' },
  { col: 'lt', src: 'longtext', dst: 'text' },
  { col: 'en', src: "enum('sad','ok','happy')", dst: 'text', ...choice(MOODS) },
  { col: 'st', src: "set('x','y')", dst: 'varchar(10)', ...choice(['', 'x', 'y', 'x,y']) },
  { col: 'ch36_u', src: 'char(36)', dst: 'uuid', gen: uuid },
  { col: 'js_jb', src: 'json', dst: 'jsonb' },
  { col: 'js_js', src: 'json', dst: 'json' },
  { col: 'js_txt', src: 'json', dst: 'text' },
  { col: 'bl', src: 'blob', dst: 'bytea' },
  { col: 'vb', src: 'varbinary(64)', dst: 'bytea' },
  { col: 'bin', src: 'binary(16)', dst: 'bytea', gen: (r) => Buffer.from(hex(r, 32), 'hex') },
  { col: 'u', src: 'uuid', dst: 'uuid' },
  { col: 'u_txt', src: 'uuid', dst: 'text' },
  { col: 'd', src: 'date', dst: 'date' },
  { col: 'tm', src: 'time(6)', dst: 'time(6)' },
  { col: 'dt', src: 'datetime(6)', dst: 'timestamp(6)' },
  { col: 'dt3', src: 'datetime(3)', dst: 'timestamp(6)', gen: ts3 },
  { col: 'tsz', src: 'timestamp(6) NULL', dst: 'timestamptz(6)' },
];

const PG_TO_PG: readonly Pairing[] = [
  { col: 'b', src: 'boolean', dst: 'boolean' },
  { col: 'i16_i32', src: 'smallint', dst: 'integer' },
  { col: 'i32_i64', src: 'integer', dst: 'bigint' },
  { col: 'i64_num', src: 'bigint', dst: 'numeric(20,0)' },
  { col: 'f32_f64', src: 'real', dst: 'double precision' },
  { col: 'f64', src: 'double precision', dst: 'double precision' },
  { col: 'dec_wide', src: 'numeric(10,2)', dst: 'numeric(14,4)' },
  { col: 'dec_num', src: 'numeric(10,2)', dst: 'numeric' },
  { col: 'num', src: 'numeric', dst: 'numeric', ...numericText },
  { col: 'txt_vc', src: 'text', dst: 'varchar(200)' },
  { col: 'vc_txt', src: 'varchar(40)', dst: 'text' },
  { col: 'ch', src: 'char(8)', dst: 'char(8)' },
  { col: 'mood', src: 'mood', dst: 'text', ...choice(MOODS) },
  { col: 'jb_js', src: 'jsonb', dst: 'json' },
  { col: 'js_jb', src: 'json', dst: 'jsonb' },
  { col: 'jb_txt', src: 'jsonb', dst: 'text' },
  { col: 'by', src: 'bytea', dst: 'bytea' },
  { col: 'u', src: 'uuid', dst: 'uuid' },
  { col: 'u_txt', src: 'uuid', dst: 'text' },
  { col: 'd', src: 'date', dst: 'date' },
  { col: 'tm3', src: 'time(3)', dst: 'time(6)', gen: time3 },
  { col: 'ts3', src: 'timestamp(3)', dst: 'timestamp(6)', gen: ts3 },
  { col: 'tz', src: 'timestamptz(6)', dst: 'timestamptz(6)' },
  { col: 'tz_ts', src: 'timestamptz(6)', dst: 'timestamp(6)' },
];

// --- environment -------------------------------------------------------------------------------

type Engine = 'postgres' | 'mysql';

interface Db {
  readonly conn: DbConnection;
  exec(sql: string, params?: unknown[]): Promise<void>;
  drop(): Promise<void>;
}

async function openDb(engine: Engine): Promise<Db> {
  if (engine === 'postgres') {
    const db = await scratchPostgres();
    const pool: pg.Pool = db.pool;
    return {
      conn: { dialect: 'postgres', connection: pool },
      exec: async (sql, params) => {
        await pool.query(sql, params);
      },
      drop: () => db.drop(),
    };
  }
  const db = await scratchMysql();
  const pool: mysql.Pool = db.pool;
  pool.on('connection', (c) => void c.query(MYSQL_SESSION_SQL));
  return {
    conn: { dialect: 'mysql', connection: pool },
    exec: async (sql, params) => {
      await pool.query(sql, params);
    },
    drop: () => db.drop(),
  };
}

const quote = (engine: Engine, n: string) => (engine === 'mysql' ? `\`${n}\`` : `"${n}"`);

function createSql(engine: Engine, table: string, key: string, columns: ReadonlyArray<readonly [string, string]>): string {
  // MariaDB's JSON is a LONGTEXT with CHECK (json_valid(…)) added by the server.
  const cols = columns.map(([name, type]) => `${quote(engine, name)} ${type}${type.endsWith(' NULL') ? '' : ' NULL'}`);
  return `CREATE TABLE ${quote(engine, table)} (${quote(engine, 'id')} ${key} NOT NULL PRIMARY KEY, ${cols.join(', ')})`;
}

let version = 1n;
function events(table: TableSchema, op: 'c' | 'u', rows: readonly Row[]) {
  return rows.map((row) => ({
    table,
    op,
    key: { id: row.id! },
    after: row,
    source: { connector: 'test', position: String(version) },
    version: version++,
  }));
}

function sinkOn(conn: DbConnection, table: TableSchema): SqlSink {
  // As the pipeline does across engines: the target table by name in the connection's database.
  const resolveTable = (t: { name: string }) => ({ name: t.name });
  return conn.dialect === 'mysql'
    ? createSink({ dialect: 'mysql', connection: conn.connection as mysql.Pool, tables: [table], resolveTable })
    : createSink({ dialect: 'postgres', connection: conn.connection as pg.Pool, tables: [table], resolveTable });
}

const SMALL = { rangeMs: 1, initialRows: 40, minRows: 20, bucketRows: 8, gridBucketRows: 8, pageRows: 25 };

function drift(t: TableReport) {
  const sorted = (xs: readonly string[]) => [...xs].sort();
  return {
    error: t.error,
    missing: sorted(t.keys.missing),
    extra: sorted(t.keys.extra),
    different: sorted(t.keys.different),
    inFlight: t.inFlight,
  };
}
const NONE = { error: undefined, missing: [], extra: [], different: [], inFlight: 0 };

/**
 * One direction: `pairings` as columns of a table keyed by `key` (native source and target types
 * of the key, and its values).
 */
function pairingCase(
  name: string,
  skip: string | false,
  engines: readonly [Engine, Engine],
  pairings: readonly Pairing[],
  key: { src: string; dst: string; gen: (i: number, r: Rnd) => ColumnValue },
) {
  describe(`reconcile ${name}: every pairing apply writes into`, { skip }, () => {
    const table = 'pairings';
    let source: Db;
    let target: Db;
    let schema: { source: TableSchema; target: TableSchema };
    let targetSink: SqlSink;
    const rows: Row[] = [];
    const jsonColumns: string[] = [];

    const run = (repair = false) =>
      reconcile({
        name,
        source: source.conn,
        target: target.conn,
        tables: [schema],
        keyLimit: 1000,
        diff: SMALL,
        ...(repair ? { repair: { sink: targetSink, maxShare: 1, rowsPerSecond: 1_000_000, batch: 16 } } : {}),
      });

    before(async () => {
      [source, target] = [await openDb(engines[0]), await openDb(engines[1])];
      for (const [db, engine] of [
        [source, engines[0]],
        [target, engines[1]],
      ] as const) {
        if (engine === 'postgres') await db.exec(`CREATE TYPE mood AS ENUM (${MOODS.map((m) => `'${m}'`).join(', ')})`);
      }
      await source.exec(
        createSql(
          engines[0],
          table,
          key.src,
          pairings.map((p) => [p.col, p.src]),
        ),
      );
      await target.exec(
        createSql(
          engines[1],
          table,
          key.dst,
          pairings.map((p) => [p.col, p.dst]),
        ),
      );
      schema = { source: await introspect(source.conn, { name: table }), target: await introspect(target.conn, { name: table }) };
      const r = prng(0x9a1b);
      for (let i = 1; i <= ROWS; i++) {
        const row: Row = { id: key.gen(i, r) };
        for (const p of pairings) {
          const type = schema.source.columns.find((c) => c.name === p.col)!.type;
          row[p.col] = r() < 0.1 ? null : (p.gen ?? byType(type))(r);
        }
        rows.push(row);
      }
      for (const c of schema.source.columns) if (c.type.kind === 'json') jsonColumns.push(c.name);
      const sourceSink = sinkOn(source.conn, schema.source);
      try {
        await sourceSink.apply(events(schema.source, 'c', rows));
      } finally {
        await sourceSink.close();
      }
      // The target's sink binds the source's table, as the pipeline's does: values are written as
      // the source's portable types into whatever the target's columns are.
      targetSink = sinkOn(target.conn, schema.source);
      await targetSink.apply(events(schema.source, 'c', rows));
    });

    after(async () => {
      await targetSink?.close();
      await source?.drop();
      await target?.drop();
    });

    test('every column type is the one the pairing names, on both sides', () => {
      assert.deepEqual(
        schema.source.columns.map((c) => c.name),
        ['id', ...pairings.map((p) => p.col)],
      );
      assert.deepEqual(
        schema.target.columns.map((c) => c.name),
        ['id', ...pairings.map((p) => p.col)],
      );
      assert.ok(jsonColumns.length >= 2, 'JSON columns are among the pairings');
    });

    test('identical data: no drift', async () => {
      const t = (await run()).tables[0]!;
      assert.deepEqual(drift(t), NONE);
      assert.equal(t.sourceRows, ROWS);
      assert.equal(t.targetRows, ROWS);
    });

    test('JSON respelled on the target (key order, whitespace, 1 as 1.00): no drift', async () => {
      const e = engines[1];
      for (const row of rows) {
        const sets = jsonColumns.filter((c) => row[c] !== null);
        if (sets.length === 0) continue;
        const ph = (i: number) => (e === 'mysql' ? '?' : `$${i}`);
        await target.exec(
          `UPDATE ${quote(e, table)} SET ${sets.map((c, i) => `${quote(e, c)} = ${ph(i + 1)}`).join(', ')} WHERE ${quote(e, 'id')} = ${ph(sets.length + 1)}`,
          [...sets.map((c) => respell(row[c] as string)), e === 'postgres' && typeof row.id === 'bigint' ? String(row.id) : row.id],
        );
      }
      const t = (await run()).tables[0]!;
      assert.deepEqual(drift(t), NONE);
    });

    test('one planted difference per column: exactly those rows differ; --repair fixes them', async () => {
      const r = prng(0x51ded);
      const changed: Row[] = [];
      pairings.forEach((p, i) => {
        const row = rows[(i * 7 + 3) % rows.length]!;
        assert.ok(!changed.some((c) => c.id === row.id), 'one row per column');
        const type = schema.source.columns.find((c) => c.name === p.col)!.type;
        const v = row[p.col]!;
        const next = v === null ? (p.gen ?? byType(type))(r) : (p.nudge ?? ((x) => nudgeByType(type, x)))(v, r);
        assert.notDeepEqual(next, v, p.col);
        changed.push({ ...row, [p.col]: next });
      });
      await targetSink.apply(events(schema.source, 'u', changed));
      const ids = changed.map((c) => String(c.id)).sort();
      const t = (await run()).tables[0]!;
      const got = drift(t);
      // Name the columns behind any surprise, not just the keys.
      const colOf = (id: string) => pairings[changed.findIndex((c) => String(c.id) === id)]?.col ?? `(unplanted ${id})`;
      assert.deepEqual({ ...got, different: got.different.map(colOf).sort() }, { ...NONE, different: ids.map(colOf).sort() });

      const repaired = (await run(true)).tables[0]!;
      assert.deepEqual(repaired.repair, { status: 'done', inserted: 0, updated: pairings.length, deleted: 0, skipped: 0 });
      assert.deepEqual(drift((await run()).tables[0]!), NONE);
    });
  });
}

const both = skipUnless(pgUp, POSTGRES_WHAT) || skipUnless(myUp, MYSQL_WHAT);
const bigintKey = { src: 'bigint', dst: 'bigint', gen: (i: number) => BigInt(i * 3) };

pairingCase('PostgreSQL → MariaDB', both, ['postgres', 'mysql'], PG_TO_MARIADB, bigintKey);
pairingCase('MariaDB → PostgreSQL', both, ['mysql', 'postgres'], MARIADB_TO_PG, bigintKey);
pairingCase('PostgreSQL → PostgreSQL', skipUnless(pgUp, POSTGRES_WHAT), ['postgres', 'postgres'], PG_TO_PG, bigintKey);
// Keys are compared by their canonical text as well: a uuid key that is a CHAR(36) on MariaDB.
pairingCase(
  'PostgreSQL → MariaDB, uuid key in CHAR(36)',
  both,
  ['postgres', 'mysql'],
  PG_TO_MARIADB.filter((p) => ['u_ch', 'jb_json', 'js_json', 'b_t1'].includes(p.col)),
  {
    src: 'uuid',
    dst: 'char(36)',
    gen: (_i, r) => uuid(r),
  },
);
