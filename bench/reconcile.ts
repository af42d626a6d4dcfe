// Benchmark: reconcile (diff + re-check, no probe, no repair) of a table of ROWS rows, narrow
// (5 columns) and wide (20 columns: ints, a 200-byte text, json, float8, timestamp, timestamptz,
// numeric, boolean, date, varchar, ...), PostgreSQL → PostgreSQL and MariaDB → PostgreSQL, with no
// drift, 0.1% drift scattered over the key space and 1% drift clustered in one key range (half
// updated, a quarter deleted, a quarter inserted into a gap), as a ratio to references measured in
// this run, warm, just before each diff:
//   - one full checksum pass of both tables with the same canonical row expression,
//     SELECT count(*), sum(<row hash>) FROM t, source then target (seq) and both at once (conc);
//   - a plain count(*) of both tables at once.
// Goals (reconcile ÷ checksum pass): ≤ 1.0 no drift, ≤ 1.3 at 0.1% scattered, ≤ 2.0 at 1% clustered.
// Each figure is the faster of two runs. Also: rows/s, queries and bytes (report.stats), RSS peak
// above the baseline (sampled every 50 ms), time per query kind per side (boundary walk, bucket
// checksums, row merge, re-check; sessions overlap so these add up to more than the wall time),
// and the drift found checked against the drift planted (a mismatch is printed loudly and the
// bench exits 1). Identical data is generated on both sides with set-based SQL (generate_series,
// MariaDB's Sequence engine); json columns are `json` on PostgreSQL so the text is kept.
// Prints a JSON line per case and scenario, then a markdown table and one markdown line.
// Not measured here: the extra replication lag reconcile causes while a live workload runs.
// Run: npm run bench -- reconcile   (or: node --import tsx bench/reconcile.ts [ROWS] [ONLY])
//   ONLY: comma-separated cases to run, e.g. narrow-pg,wide-mariadb (default: all four).
// Env: SLUICE_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres),
//      SLUICE_BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306),
//      SLUICE_BENCH_KEEP=1 keeps the scratch databases (named on stderr) for profiling by hand.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import mysql from 'mysql2/promise';
import type { Column, TableSchema } from '../src/core/table-schema.js';
import { introspect, MYSQL_SESSION_SQL, pgTypes } from '../src/metadata/index.js';
import type { DbConnection } from '../src/metadata/types.js';
import { reconcile } from '../src/reconcile/reconcile.js';
import type { ReconcileReport, TableReport } from '../src/reconcile/report.js';
import { canonicalColumnSql, canonicalRowSql, canonicalSessionSql, hash64Sql, mod64, type SqlFamily } from '../src/reconcile/canonical.js';
import { quoteMysql, quotePg } from '../src/metadata/sql-names.js';

const N = Number(process.argv[2] ?? 1_000_000);
const ONLY = process.argv[3] ? process.argv[3].split(',') : undefined;
const RUNS = 2;
const PG_URL = process.env.SLUICE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MY_URL = process.env.SLUICE_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const KEEP = process.env.SLUICE_BENCH_KEEP === '1';

// --- data ---------------------------------------------------------------------------------------
// Keys 1 .. N + GAP, except a gap of GAP keys right after the clustered block, so both sides hold
// exactly N rows; the 1% clustered drift inserts its extra rows into that gap on the target.

const BLOCK = Math.max(8, Math.floor(N / 100));
const UPDATED = Math.floor(BLOCK / 2);
const DELETED = Math.floor(BLOCK / 4);
const GAP = Math.floor(BLOCK / 4);
const B0 = Math.floor(N * 0.6);
const G0 = B0 + BLOCK; // gap [G0, G0 + GAP)
const MAX_ID = N + GAP;

interface ColDef {
  name: string;
  pg: string;
  my: string;
  pgx: string;
  myx: string;
}
interface Shape {
  name: 'narrow' | 'wide';
  cols: ColDef[];
  scatteredCol: string;
  clusteredSet: { pg: string; my: string };
}

const c = (name: string, pgType: string, myType: string, pgx: string, myx = pgx): ColDef => ({ name, pg: pgType, my: myType, pgx, myx });

const NARROW: Shape = {
  name: 'narrow',
  cols: [
    c('id', 'bigint PRIMARY KEY', 'BIGINT PRIMARY KEY', 'x'),
    c('a', 'integer NOT NULL', 'INT NOT NULL', '(x * 7919 % 1000003)::int', 'x * 7919 % 1000003'),
    c('b', 'bigint NOT NULL', 'BIGINT NOT NULL', 'x * 1000003 + 17'),
    c('amount', 'numeric(12,2) NOT NULL', 'DECIMAL(12,2) NOT NULL', '(x % 10000000)::numeric / 100', '(x % 10000000) / 100'),
    c('label', 'text NOT NULL', 'VARCHAR(32) NOT NULL', 'left(md5(x::text), 20)', 'LEFT(MD5(x), 20)'),
  ],
  scatteredCol: 'b',
  clusteredSet: { pg: 'label = upper(label)', my: 'label = UPPER(label)' },
};

const WIDE: Shape = {
  name: 'wide',
  cols: [
    c('id', 'bigint PRIMARY KEY', 'BIGINT PRIMARY KEY', 'x'),
    c('i1', 'integer NOT NULL', 'INT NOT NULL', '(x % 1000)::int', 'x % 1000'),
    c('i2', 'integer NOT NULL', 'INT NOT NULL', '(x * 31 % 65536)::int', 'x * 31 % 65536'),
    c('i3', 'bigint NOT NULL', 'BIGINT NOT NULL', 'x * x'),
    c('i4', 'smallint NOT NULL', 'SMALLINT NOT NULL', '(x % 32000)::smallint', 'x % 32000'),
    c(
      'note',
      'text NOT NULL',
      'TEXT NOT NULL',
      'repeat(md5(x::text), 6) || left(md5((x + 1)::text), 8)',
      'CONCAT(REPEAT(MD5(x), 6), LEFT(MD5(x + 1), 8))',
    ),
    c(
      'doc',
      'json NOT NULL',
      'JSON NOT NULL',
      `('{"id":' || x || ',"tag":"' || left(md5(x::text), 8) || '","n":' || (x % 100) || ',"ok":' || CASE WHEN x % 2 = 0 THEN 'true' ELSE 'false' END || '}')::json`,
      `CONCAT('{"id":', x, ',"tag":"', LEFT(MD5(x), 8), '","n":', x % 100, ',"ok":', IF(x % 2 = 0, 'true', 'false'), '}')`,
    ),
    c('ratio', 'double precision NOT NULL', 'DOUBLE NOT NULL', 'x::float8 / 7::float8', 'x / 7e0'),
    c(
      'created_at',
      'timestamp(6) NOT NULL',
      'DATETIME(6) NOT NULL',
      `timestamp '2024-01-01 00:00:00' + make_interval(secs => x) + (x % 1000000)::int * interval '1 microsecond'`,
      `TIMESTAMP'2024-01-01 00:00:00' + INTERVAL x SECOND + INTERVAL (x % 1000000) MICROSECOND`,
    ),
    c(
      'updated_at',
      'timestamptz(6) NOT NULL',
      'TIMESTAMP(6) NULL',
      `timestamptz '2023-06-01 00:00:00+00' + make_interval(secs => x * 37) + (x % 999983)::int * interval '1 microsecond'`,
      `TIMESTAMP'2023-06-01 00:00:00' + INTERVAL (x * 37) SECOND + INTERVAL (x % 999983) MICROSECOND`,
    ),
    c(
      'amount',
      'numeric(14,4) NOT NULL',
      'DECIMAL(14,4) NOT NULL',
      '(x * 12345 % 100000000000)::numeric / 10000',
      '(x * 12345 % 100000000000) / 10000',
    ),
    c('flag', 'boolean NOT NULL', 'TINYINT(1) NOT NULL', 'x % 3 = 0'),
    c('day', 'date NOT NULL', 'DATE NOT NULL', `date '2020-01-01' + (x % 3650)::int`, `DATE'2020-01-01' + INTERVAL (x % 3650) DAY`),
    c(
      'code',
      'varchar(40)',
      'VARCHAR(40) NULL',
      `CASE WHEN x % 10 = 0 THEN NULL ELSE 'C-' || x END`,
      `IF(x % 10 = 0, NULL, CONCAT('C-', x))`,
    ),
    c('label', 'text NOT NULL', 'VARCHAR(32) NOT NULL', `left(md5(x::text || 'L'), 20)`, `LEFT(MD5(CONCAT(x, 'L')), 20)`),
    c('price', 'numeric(10,2) NOT NULL', 'DECIMAL(10,2) NOT NULL', '(x % 100000)::numeric / 100', '(x % 100000) / 100'),
    c('qty', 'integer NOT NULL', 'INT NOT NULL', '(x % 500 - 250)::int', 'x % 500 - 250'),
    c('big', 'bigint NOT NULL', 'BIGINT NOT NULL', 'x * 1000000007'),
    c('score', 'double precision NOT NULL', 'DOUBLE NOT NULL', '(x::float8 + 0.5::float8) / 3::float8', '(x + 0.5e0) / 3e0'),
    c(
      'status',
      'varchar(16) NOT NULL',
      'VARCHAR(16) NOT NULL',
      `(ARRAY['new','paid','sent','done'])[x % 4 + 1]`,
      `ELT(x % 4 + 1, 'new', 'paid', 'sent', 'done')`,
    ),
  ],
  scatteredCol: 'qty',
  clusteredSet: { pg: 'note = upper(note)', my: 'note = UPPER(note)' },
};

const pgDdl = (s: Shape) => `CREATE TABLE ${s.name} (${s.cols.map((x) => `${x.name} ${x.pg}`).join(', ')})`;
const myDdl = (s: Shape) =>
  `CREATE TABLE ${s.name} (${s.cols.map((x) => `\`${x.name}\` ${x.my}`).join(', ')}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;
const pgSelect = (s: Shape) => s.cols.map((x) => x.pgx).join(', ');
const mySelect = (s: Shape) => s.cols.map((x) => x.myx).join(', ');
/** PostgreSQL rows for ids in [lo, hi], skipping the gap unless `gap`. */
const pgInsert = (s: Shape, lo: number, hi: number, gap = false) =>
  `INSERT INTO ${s.name} SELECT ${pgSelect(s)} FROM generate_series(${lo}::bigint, ${hi}::bigint) g(x)${gap ? '' : ` WHERE x NOT BETWEEN ${G0} AND ${G0 + GAP - 1}`}`;

// --- connections --------------------------------------------------------------------------------

function pgPool(database: string, max = 4): pg.Pool {
  const url = new URL(PG_URL);
  url.pathname = `/${database}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max, types: pgTypes });
  pool.on('error', () => {});
  return pool;
}

function myPool(database: string, max = 4): mysql.Pool {
  const pool = mysql.createPool({
    uri: MY_URL,
    database,
    connectionLimit: max,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    decimalNumbers: false,
    timezone: 'Z',
  });
  (pool.pool as unknown as { on(e: 'connection', f: (c: { query(sql: string): void }) => void): void }).on('connection', (x) =>
    x.query(MYSQL_SESSION_SQL),
  );
  return pool;
}

// --- query timing, per side and kind (wraps the pools reconcile gets; src/ is untouched) ---------

type Kind = 'boundaries' | 'bucketSums' | 'rowHashes' | 'recheck' | 'estimate' | 'session';
interface KindStat {
  n: number;
  ms: number;
}
type Profile = Record<'source' | 'target', Partial<Record<Kind, KindStat>>>;
let profile: Profile = { source: {}, target: {} };

function kindOf(sql: string): Kind {
  if (sql.includes('row_number() OVER') || sql.includes('LIMIT 1 OFFSET') || /^SELECT \S*(min|max)\(/.test(sql)) return 'boundaries';
  // Bucketed, plain, and walk-and-checksum (the range end found by the checksum itself) sums.
  if (sql.includes('GROUP BY b') || / AS n, (\(|CAST\()sum\(/.test(sql)) return 'bucketSums';
  if (sql.includes(' IN (')) return 'recheck';
  if (sql.includes('AS h FROM')) return 'rowHashes';
  if (sql.includes('reltuples') || sql.includes('information_schema.tables')) return 'estimate';
  return 'session';
}

function note(role: 'source' | 'target', sql: string, ms: number): void {
  const s = (profile[role][kindOf(sql)] ??= { n: 0, ms: 0 });
  s.n++;
  s.ms += ms;
}

function wrapMethod<T extends object>(obj: T, method: string, role: 'source' | 'target'): T {
  return new Proxy(obj, {
    get(t, k) {
      const v = Reflect.get(t, k, t) as unknown;
      if (k === method) {
        return async (sql: string, params?: unknown) => {
          const t0 = performance.now();
          try {
            return await (v as (a: string, b?: unknown) => Promise<unknown>).call(t, sql, params);
          } finally {
            note(role, sql, performance.now() - t0);
          }
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

function timedConn(conn: DbConnection, role: 'source' | 'target'): DbConnection {
  if (conn.dialect === 'postgres') {
    const pool = conn.connection as pg.Pool;
    return {
      dialect: 'postgres',
      connection: { connect: async () => wrapMethod(await pool.connect(), 'query', role) } as unknown as pg.Pool,
    };
  }
  const pool = conn.connection as mysql.Pool;
  return {
    dialect: 'mysql',
    connection: { getConnection: async () => wrapMethod(await pool.getConnection(), 'query', role) } as unknown as mysql.Pool,
  };
}

// --- references ---------------------------------------------------------------------------------

interface RefSession {
  family: SqlFamily;
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

async function refSession(conn: DbConnection): Promise<RefSession> {
  const family: SqlFamily = conn.dialect === 'mysql' ? 'mysql' : 'pg';
  if (conn.dialect === 'postgres') {
    const client = await (conn.connection as pg.Pool).connect();
    for (const s of canonicalSessionSql('pg')) await client.query(s);
    return { family, query: async (sql) => (await client.query(sql)).rows, close: async () => client.release() };
  }
  const cn = await (conn.connection as mysql.Pool).getConnection();
  for (const s of canonicalSessionSql('mysql')) await cn.query(s);
  return { family, query: async (sql) => (await cn.query(sql))[0] as Record<string, unknown>[], close: async () => cn.release() };
}

function tableSql(family: SqlFamily, t: TableSchema): string {
  return family === 'pg' ? quotePg(t.name) : quoteMysql(t.name);
}

/** The checksum-pass reference: every row's canonical hash, summed, in one statement. */
function checksumSql(family: SqlFamily, t: TableSchema, cols: readonly Column[]): string {
  const h = hash64Sql(family, canonicalRowSql(family, cols));
  return family === 'pg'
    ? `SELECT count(*)::text AS n, sum(${h})::text AS s FROM ${tableSql(family, t)}`
    : `SELECT CAST(count(*) AS CHAR) AS n, CAST(sum(${h}) AS CHAR) AS s FROM ${tableSql(family, t)}`;
}

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

interface Refs {
  seq: number;
  conc: number;
  count: number;
  source: number;
  target: number;
  sums: { source: string; target: string };
}

/** Parallel workers PostgreSQL plans for a statement (0 on MariaDB, which has none). */
async function workersPlanned(s: RefSession, sql: string): Promise<number> {
  if (s.family !== 'pg') return 0;
  const plan = JSON.stringify((await s.query(`EXPLAIN (FORMAT JSON) ${sql}`))[0]);
  return Number(/"Workers Planned\\?":\s*(\d+)/.exec(plan)?.[1] ?? 0);
}
const refWorkers = new Map<string, string>();

async function references(
  src: RefSession,
  tgt: RefSession,
  srcT: TableSchema,
  tgtT: TableSchema,
  cols: { source: Column[]; target: Column[] },
): Promise<Refs> {
  const sSql = checksumSql(src.family, srcT, cols.source);
  const tSql = checksumSql(tgt.family, tgtT, cols.target);
  const cnt = (s: RefSession, t: TableSchema) => s.query(`SELECT count(*) AS n FROM ${tableSql(s.family, t)}`);
  const best = { seq: Infinity, conc: Infinity, count: Infinity, source: Infinity, target: Infinity };
  let sums = { source: '', target: '' };
  for (let i = 0; i < RUNS; i++) {
    const a = await time(() => src.query(sSql));
    const b = await time(() => tgt.query(tSql));
    best.source = Math.min(best.source, a.ms);
    best.target = Math.min(best.target, b.ms);
    best.seq = Math.min(best.seq, a.ms + b.ms);
    sums = { source: String(a.value[0]!.s), target: String(b.value[0]!.s) };
    best.conc = Math.min(best.conc, (await time(() => Promise.all([src.query(sSql), tgt.query(tSql)]))).ms);
    best.count = Math.min(best.count, (await time(() => Promise.all([cnt(src, srcT), cnt(tgt, tgtT)]))).ms);
  }
  return { ...best, sums: { source: mod64(sums.source).toString(16), target: mod64(sums.target).toString(16) } };
}

// --- drift --------------------------------------------------------------------------------------

interface Planted {
  missing: number;
  extra: number;
  different: number;
}

async function exec(pool: pg.Pool, sql: string): Promise<number> {
  return (await pool.query(sql)).rowCount ?? 0;
}

async function plantScattered(tgt: pg.Pool, s: Shape): Promise<Planted> {
  const n = await exec(tgt, `UPDATE ${s.name} SET ${s.scatteredCol} = ${s.scatteredCol} + 1 WHERE id % 1000 = 0`);
  return { missing: 0, extra: 0, different: n };
}

async function restoreScattered(tgt: pg.Pool, s: Shape): Promise<void> {
  await exec(tgt, `UPDATE ${s.name} SET ${s.scatteredCol} = ${s.scatteredCol} - 1 WHERE id % 1000 = 0`);
  await tgt.query(`VACUUM ANALYZE ${s.name}`);
}

async function plantClustered(tgt: pg.Pool, s: Shape): Promise<Planted> {
  const different = await exec(tgt, `UPDATE ${s.name} SET ${s.clusteredSet.pg} WHERE id BETWEEN ${B0} AND ${B0 + UPDATED - 1}`);
  const missing = await exec(tgt, `DELETE FROM ${s.name} WHERE id BETWEEN ${B0 + UPDATED} AND ${B0 + UPDATED + DELETED - 1}`);
  const extra = await exec(tgt, pgInsert(s, G0, G0 + GAP - 1, true));
  return { missing, extra, different };
}

async function restoreClustered(tgt: pg.Pool, s: Shape): Promise<void> {
  const col = s.clusteredSet.pg.split(' = ')[0]!;
  const def = s.cols.find((x) => x.name === col)!;
  await exec(
    tgt,
    `UPDATE ${s.name} t SET ${col} = g.v FROM (SELECT x, ${def.pgx} AS v FROM generate_series(${B0}::bigint, ${B0 + UPDATED - 1}::bigint) g(x)) g WHERE t.id = g.x`,
  );
  await exec(tgt, pgInsert(s, B0 + UPDATED, B0 + UPDATED + DELETED - 1));
  await exec(tgt, `DELETE FROM ${s.name} WHERE id BETWEEN ${G0} AND ${G0 + GAP - 1}`);
  await tgt.query(`VACUUM ANALYZE ${s.name}`);
}

/** For drift found where none was planted: each differing key's canonical columns on both sides. */
async function explainDrift(
  src: RefSession,
  tgt: RefSession,
  srcT: TableSchema,
  tgtT: TableSchema,
  cols: { source: Column[]; target: Column[] },
  t: TableReport,
): Promise<void> {
  console.error(
    `!!! DRIFT WHERE NONE WAS PLANTED: missing ${t.missing}, extra ${t.extra}, different ${t.different}, inFlight ${t.inFlight}${t.error ? `, error ${t.error}` : ''}`,
  );
  console.error(JSON.stringify(t.keys));
  for (const key of t.keys.different.slice(0, 3)) {
    const read = async (s: RefSession, table: TableSchema, cs: Column[]) => {
      const q = s.family === 'pg' ? quotePg : quoteMysql;
      const sel = cs.map((cc, i) => `${canonicalColumnSql(s.family, cc, q(cc.name))} AS c${i}`).join(', ');
      return (await s.query(`SELECT ${sel} FROM ${tableSql(s.family, table)} WHERE id = ${Number(key)}`))[0] ?? {};
    };
    const a = await read(src, srcT, cols.source);
    const b = await read(tgt, tgtT, cols.target);
    cols.source.forEach((cc, i) => {
      if (String(a[`c${i}`]) !== String(b[`c${i}`]))
        console.error(`  id ${key} column ${cc.name}: source ${JSON.stringify(a[`c${i}`])} target ${JSON.stringify(b[`c${i}`])}`);
    });
  }
}

// --- one reconcile run --------------------------------------------------------------------------

interface Run {
  ms: number;
  report: ReconcileReport;
  rssPeakMb: number;
  profile: Profile;
}

async function runReconcile(source: DbConnection, target: DbConnection, srcT: TableSchema, tgtT: TableSchema): Promise<Run> {
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  profile = { source: {}, target: {} };
  try {
    const t0 = performance.now();
    const report = await reconcile({
      name: 'bench',
      source: timedConn(source, 'source'),
      target: timedConn(target, 'target'),
      tables: [{ source: srcT, target: tgtT }],
      ...(process.env.SLUICE_BENCH_RANGE_MS ? { diff: { rangeMs: Number(process.env.SLUICE_BENCH_RANGE_MS) } } : {}),
    });
    const ms = performance.now() - t0;
    peak = Math.max(peak, process.memoryUsage().rss);
    return { ms, report, rssPeakMb: (peak - base) / 2 ** 20, profile };
  } finally {
    clearInterval(timer);
  }
}

// --- run ----------------------------------------------------------------------------------------

type Pair = 'pg' | 'mariadb';
type Scenario = 'none' | 'scattered' | 'clustered';
interface Result {
  case: string;
  scenario: Scenario;
  reconcileMs: number;
  refs: Omit<Refs, 'sums'>;
  ratioSeq: number;
  ratioConc: number;
  ratioCount: number;
  rowsPerS: number;
  queries: number;
  bytes: number;
  rssPeakMb: number;
  planted: Planted;
  found: Planted;
  ok: boolean;
  ranges: number;
  rangesDiffering: number;
  rowsCompared: number;
  rechecks: number;
  profile: Profile;
}

const tag = randomBytes(4).toString('hex');
const srcDb = `sluice_bench_rs_${tag}`;
const tgtDb = `sluice_bench_rt_${tag}`;
const myDb = `sluice_bench_rm_${tag}`;
const admin = new pg.Client({ connectionString: PG_URL });
admin.on('error', () => {});
await admin.connect();
const myAdmin = await mysql.createConnection({ uri: MY_URL });
const shapes = [NARROW, WIDE];
const pairs: Pair[] = ['pg', 'mariadb'];
const cases = shapes
  .flatMap((s) => pairs.map((p) => ({ shape: s, pair: p, name: `${s.name}-${p}` })))
  .filter((x) => !ONLY || ONLY.includes(x.name));
const needMy = cases.some((x) => x.pair === 'mariadb');
const needShapes = shapes.filter((s) => cases.some((x) => x.shape === s));
let srcPool: pg.Pool | undefined;
let tgtPool: pg.Pool | undefined;
let myPoolV: mysql.Pool | undefined;
const results: Result[] = [];
let failures = 0;
const benchStart = performance.now();
try {
  await admin.query(`CREATE DATABASE ${srcDb} TEMPLATE template0 ENCODING 'UTF8'`);
  await admin.query(`CREATE DATABASE ${tgtDb} TEMPLATE template0 ENCODING 'UTF8'`);
  if (needMy) await myAdmin.query(`CREATE DATABASE ${myDb} CHARACTER SET utf8mb4`);
  srcPool = pgPool(srcDb);
  tgtPool = pgPool(tgtDb);
  myPoolV = needMy ? myPool(myDb) : undefined;

  // Load: the three databases at once, each its tables one after the other.
  const tLoad = performance.now();
  const loadPg = async (pool: pg.Pool) => {
    for (const s of needShapes) {
      await pool.query(pgDdl(s));
      await pool.query(pgInsert(s, 1, MAX_ID));
      await pool.query(`VACUUM ANALYZE ${s.name}`);
    }
  };
  const loadMy = async (pool: mysql.Pool) => {
    const cn = await pool.getConnection();
    try {
      await cn.query(MYSQL_SESSION_SQL);
      for (const s of needShapes.filter((sh) => cases.some((x) => x.shape === sh && x.pair === 'mariadb'))) {
        await cn.query(myDdl(s));
        const chunk = 100_000;
        for (let lo = 1; lo <= MAX_ID; lo += chunk) {
          const hi = Math.min(MAX_ID, lo + chunk - 1);
          await cn.query(
            `INSERT INTO ${s.name} SELECT ${mySelect(s)} FROM (SELECT CAST(seq AS SIGNED) AS x FROM seq_${lo}_to_${hi}) g WHERE x NOT BETWEEN ${G0} AND ${G0 + GAP - 1}`,
          );
        }
        await cn.query(`ANALYZE TABLE ${s.name}`);
      }
    } finally {
      cn.release();
    }
  };
  await Promise.all([loadPg(srcPool), loadPg(tgtPool), ...(myPoolV ? [loadMy(myPoolV)] : [])]);
  const loadMs = performance.now() - tLoad;
  console.error(`loaded ${N} rows per table in ${(loadMs / 1000).toFixed(1)} s`);

  for (const cs of cases) {
    const source: DbConnection =
      cs.pair === 'pg' ? { dialect: 'postgres', connection: srcPool } : { dialect: 'mysql', connection: myPoolV! };
    const target: DbConnection = { dialect: 'postgres', connection: tgtPool };
    const srcT = await introspect(source, { name: cs.shape.name });
    const tgtT = await introspect(target, { name: cs.shape.name });
    const cols = { source: srcT.columns.slice(), target: srcT.columns.map((x) => tgtT.columns.find((y) => y.name === x.name)!) };
    const rs = await refSession(source);
    const rt = await refSession(target);
    try {
      for (const scenario of ['none', 'scattered', 'clustered'] as Scenario[]) {
        const planted =
          scenario === 'scattered'
            ? await plantScattered(tgtPool, cs.shape)
            : scenario === 'clustered'
              ? await plantClustered(tgtPool, cs.shape)
              : { missing: 0, extra: 0, different: 0 };
        try {
          const refs = await references(rs, rt, srcT, tgtT, cols);
          if (scenario === 'none') {
            refWorkers.set(
              cs.name,
              `${await workersPlanned(rs, checksumSql(rs.family, srcT, cols.source))}/${await workersPlanned(rt, checksumSql(rt.family, tgtT, cols.target))}`,
            );
          }
          if (scenario === 'none' && refs.sums.source !== refs.sums.target)
            console.error(`!!! ${cs.name}: checksum pass differs: source ${refs.sums.source} target ${refs.sums.target}`);
          let best: Run | undefined;
          for (let i = 0; i < RUNS; i++) {
            const r = await runReconcile(source, target, srcT, tgtT);
            const t = r.report.tables[0]!;
            const found = { missing: t.missing, extra: t.extra, different: t.different };
            if (t.error || t.inFlight || JSON.stringify(found) !== JSON.stringify(planted)) {
              if (scenario === 'none') {
                await explainDrift(rs, rt, srcT, tgtT, cols, t);
                process.exitCode = 1;
                throw new Error(`${cs.name}: reconcile found drift in identical tables (a canonical bug?)`);
              }
              console.error(
                `!!! MISMATCH ${cs.name} ${scenario}: planted ${JSON.stringify(planted)}, found ${JSON.stringify(found)}, inFlight ${t.inFlight}${t.error ? `, error ${t.error}` : ''}`,
              );
              failures++;
            }
            if (!best || r.ms < best.ms) best = r;
          }
          const t = best!.report.tables[0]!;
          const found = { missing: t.missing, extra: t.extra, different: t.different };
          const { sums: _s, ...refFigs } = refs;
          const res: Result = {
            case: cs.name,
            scenario,
            reconcileMs: Math.round(best!.ms),
            refs: Object.fromEntries(Object.entries(refFigs).map(([k, v]) => [k, Math.round(v)])) as Result['refs'],
            ratioSeq: round3(best!.ms / refs.seq),
            ratioConc: round3(best!.ms / refs.conc),
            ratioCount: round3(best!.ms / refs.count),
            rowsPerS: Math.round(t.sourceRows / (best!.ms / 1000)),
            queries: best!.report.stats.queries,
            bytes: best!.report.stats.bytes,
            rssPeakMb: Math.round(best!.rssPeakMb),
            planted,
            found,
            ok: JSON.stringify(found) === JSON.stringify(planted) && !t.error && !t.inFlight,
            ranges: t.ranges,
            rangesDiffering: t.rangesDiffering,
            rowsCompared: t.rowsCompared,
            rechecks: best!.report.stats.rechecks,
            profile: roundProfile(best!.profile),
          };
          results.push(res);
          console.log(JSON.stringify({ bench: 'reconcile', rows: N, columns: cs.shape.cols.length, ...res }));
        } finally {
          if (scenario === 'scattered') await restoreScattered(tgtPool, cs.shape);
          if (scenario === 'clustered') await restoreClustered(tgtPool, cs.shape);
        }
      }
    } finally {
      await rs.close();
      await rt.close();
    }
  }
} finally {
  await srcPool?.end();
  await tgtPool?.end();
  await myPoolV?.end();
  if (KEEP) console.error(`kept: PostgreSQL ${srcDb} (source), ${tgtDb} (target); MariaDB ${needMy ? myDb : '-'}`);
  else {
    await admin.query(`DROP DATABASE IF EXISTS ${srcDb} WITH (FORCE)`);
    await admin.query(`DROP DATABASE IF EXISTS ${tgtDb} WITH (FORCE)`);
    await myAdmin.query(`DROP DATABASE IF EXISTS ${myDb}`);
  }
  await admin.end();
  await myAdmin.end();
}
summary();
if (failures) {
  console.error(`!!! ${failures} run(s) reported drift different from what was planted`);
  process.exitCode = 1;
}

function round3(x: number): number {
  return Number(x.toFixed(3));
}

function roundProfile(p: Profile): Profile {
  const r = (x: Partial<Record<Kind, KindStat>>) =>
    Object.fromEntries(Object.entries(x).map(([k, v]) => [k, { n: v!.n, ms: Math.round(v!.ms) }]));
  return { source: r(p.source), target: r(p.target) };
}

function summary(): void {
  const totalS = (performance.now() - benchStart) / 1000;
  const goal: Record<Scenario, number> = { none: 1.0, scattered: 1.3, clustered: 2.0 };
  const label: Record<Scenario, string> = { none: 'no drift', scattered: '0.1% scattered', clustered: '1% clustered' };
  const prof = (r: Result) => {
    const s = r.profile.source;
    const t = r.profile.target;
    const f = (x?: KindStat) => (x ? `${(x.ms / 1000).toFixed(2)}` : '0');
    return `walk ${f(s.boundaries)} · sums ${f(s.bucketSums)}/${f(t.bucketSums)} · merge ${f(s.rowHashes)}/${f(t.rowHashes)} · recheck ${f(s.recheck)}/${f(t.recheck)}`;
  };
  const lines = [
    '',
    `### reconcile, ${N.toLocaleString('en-US')} rows per table (faster of ${RUNS} runs; references warm, just before each diff; bench ${totalS.toFixed(0)} s)`,
    '',
    '| case | scenario | reconcile s | checksum seq s (src+tgt) | checksum conc s | count conc s | ÷ seq | ÷ conc | ÷ count | goal | rows/s | queries | MB read | RSS peak MB | drift found (m/e/d) | ok | query s: walk · sums src/tgt · merge src/tgt · recheck src/tgt |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.case} | ${label[r.scenario]} | ${(r.reconcileMs / 1000).toFixed(2)} | ${(r.refs.seq / 1000).toFixed(2)} (${(r.refs.source / 1000).toFixed(2)}+${(r.refs.target / 1000).toFixed(2)}) | ${(r.refs.conc / 1000).toFixed(2)} | ${(r.refs.count / 1000).toFixed(2)} | ${r.ratioSeq} | **${r.ratioConc}** | ${r.ratioCount} | ≤ ${goal[r.scenario]} | ${r.rowsPerS.toLocaleString('en-US')} | ${r.queries} | ${(r.bytes / 1e6).toFixed(1)} | ${r.rssPeakMb} | ${r.found.missing}/${r.found.extra}/${r.found.different} | ${r.ok ? 'yes' : '**NO**'} | ${prof(r)} |`,
    ),
  ];
  lines.push(
    '',
    `Parallel workers PostgreSQL planned for the checksum-pass reference (source/target): ${[...refWorkers].map(([k, v]) => `${k} ${v}`).join(', ')}.`,
  );
  console.log(lines.join('\n'));
  const worst = (sc: Scenario) => Math.max(...results.filter((r) => r.scenario === sc).map((r) => r.ratioConc));
  console.log(
    `\n| reconcile ${N}×(5/20 cols) PG→PG, MariaDB→PG | ÷ concurrent checksum pass, worst case: no drift **${worst('none')}** (goal ≤ 1.0), 0.1% scattered **${worst('scattered')}** (≤ 1.3), 1% clustered **${worst('clustered')}** (≤ 2.0) | drift found = planted: ${results.every((r) => r.ok) ? 'yes' : 'NO'} |`,
  );
}
