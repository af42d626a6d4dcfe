// Benchmark: applying rows × 10 columns to MariaDB/MySQL through the sink (version guard,
// checkpoint), inserts into an empty table and upserts over the existing rows, for the statement
// strategies the MariaDB dialect offers (server-side prepared vs client-side bound, rows per
// statement), as a ratio to a plain multi-row INSERT of the same rows (the ceiling: no upsert, no
// guard) and to multi-row INSERT … ON DUPLICATE KEY UPDATE without a guard, measured in this run.
// Each figure is the median of ROUNDS runs. Prints JSON and one markdown line.
// Run: npm run bench -- apply-mysql   (or: node --import tsx bench/apply-mysql.ts [ROWS] [BATCH])
// Env: SLUICE_BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306).
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { createSink } from '../src/apply/index.js';
import type { ChangeEvent } from '../src/core/change-event.js';
import type { Row, TableSchema } from '../src/core/table-schema.js';
import { MYSQL_SESSION_SQL, toMysqlParam } from '../src/metadata/mysql.js';
import { makeRows, median, timed } from './support/measure.js';

const N = Number(process.argv[2] ?? 100_000);
const BATCH = Number(process.argv[3] ?? 20_000);
const ROUNDS = 3;
const BASE_URL = process.env.SLUICE_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

const table: TableSchema = {
  name: 'bench_items',
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: { kind: 'int64' }, nullable: false },
    { name: 'account', type: { kind: 'int32' }, nullable: false },
    { name: 'counter', type: { kind: 'int64' }, nullable: false },
    { name: 'code', type: { kind: 'string' }, nullable: false },
    { name: 'note', type: { kind: 'string' }, nullable: true },
    { name: 'amount', type: { kind: 'decimal', precision: 12, scale: 2 }, nullable: false },
    { name: 'ratio', type: { kind: 'float64' }, nullable: true },
    { name: 'created_at', type: { kind: 'timestamptz' }, nullable: false },
    { name: 'active', type: { kind: 'boolean' }, nullable: false },
    { name: 'valid_from', type: { kind: 'date' }, nullable: true },
  ],
};
const DDL = `CREATE TABLE bench_items (id bigint PRIMARY KEY, account int NOT NULL, counter bigint NOT NULL, code varchar(64) NOT NULL,
  note varchar(200), amount decimal(12,2) NOT NULL, ratio double, created_at timestamp(6) NOT NULL, active tinyint(1) NOT NULL, valid_from date) ENGINE=InnoDB`;
const cols = table.columns.map((c) => `\`${c.name}\``);

async function plain(pool: mysql.Pool, rows: Row[], upsert: boolean): Promise<void> {
  const c = await pool.getConnection();
  try {
    await c.query(MYSQL_SESSION_SQL);
    await c.beginTransaction();
    for (let i = 0; i < rows.length; i += 1000) {
      const chunk = rows.slice(i, i + 1000);
      const params = chunk.flatMap((r) => table.columns.map((col) => toMysqlParam(col.type, r[col.name] ?? null)));
      const suffix = upsert
        ? ` ON DUPLICATE KEY UPDATE ${cols
            .slice(1)
            .map((x) => `${x} = VALUES(${x})`)
            .join(', ')}`
        : '';
      await c.query(
        `INSERT INTO bench_items (${cols.join(', ')}) VALUES ${chunk.map(() => `(${cols.map(() => '?').join(',')})`).join(',')}${suffix}`,
        params,
      );
    }
    await c.commit();
  } finally {
    c.release();
  }
}

function events(rows: Row[], version0: bigint): ChangeEvent[] {
  return rows.map((r, i) => ({
    table: { name: 'bench_items' },
    op: 'u',
    key: { id: r.id! },
    after: r,
    source: { connector: 'bench', position: String(version0 + BigInt(i)) },
    version: version0 + BigInt(i),
  }));
}

const dbName = `sluice_bench_${randomBytes(4).toString('hex')}`;
const admin = await mysql.createConnection({ uri: BASE_URL });
await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
const pool = mysql.createPool({ uri: BASE_URL, database: dbName, connectionLimit: 2 });
try {
  await pool.query(DDL);
  const rows0 = makeRows(N, 0);
  const rows1 = makeRows(N, 1);
  const variants = {
    text_1000: createSink({ dialect: 'mysql', connection: pool, tables: [table], statements: 'text', rowsPerStatement: 1000 }),
    text_250: createSink({ dialect: 'mysql', connection: pool, tables: [table], statements: 'text', rowsPerStatement: 250 }),
    prepared_1000: createSink({ dialect: 'mysql', connection: pool, tables: [table], statements: 'prepared', rowsPerStatement: 1000 }),
    prepared_250: createSink({ dialect: 'mysql', connection: pool, tables: [table], statements: 'prepared', rowsPerStatement: 250 }),
  };
  for (const s of Object.values(variants)) await s.prepare();
  const reset = () => pool.query('TRUNCATE bench_items').then(() => pool.query('TRUNCATE sluice_row_versions'));
  const r: Record<string, number[]> = { insert: [], insert_odku: [], upsert_odku: [] };
  let v = 1n;
  const viaSink = async (sink: ReturnType<typeof createSink>, evs: ChangeEvent[]) => {
    for (let i = 0; i < evs.length; i += BATCH) await sink.apply(evs.slice(i, i + BATCH), { name: 'bench', position: String(i) });
  };
  for (let round = 0; round < ROUNDS; round++) {
    await reset();
    r.insert!.push(await timed(N, () => plain(pool, rows0, false)));
    await reset();
    r.insert_odku!.push(await timed(N, () => plain(pool, rows0, true)));
    r.upsert_odku!.push(await timed(N, () => plain(pool, rows1, true)));
    for (const [name, sink] of Object.entries(variants)) {
      await reset();
      const e0 = events(rows0, v);
      v += BigInt(N);
      const e1 = events(rows1, v);
      v += BigInt(N);
      (r[`sink_${name}_insert`] ??= []).push(await timed(N, () => viaSink(sink, e0)));
      (r[`sink_${name}_upsert`] ??= []).push(await timed(N, () => viaSink(sink, e1)));
    }
  }
  const m = Object.fromEntries(Object.entries(r).map(([k, xs]) => [k, Math.round(median(xs))])) as Record<string, number>;
  const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
  const best = Object.keys(variants).sort((a, b) => m[`sink_${b}_insert`]! - m[`sink_${a}_insert`]!)[0]!;
  const result = {
    bench: 'apply-mysql',
    rows: N,
    columns: table.columns.length,
    batch: BATCH,
    rounds: ROUNDS,
    rows_per_s: m,
    best_variant: best,
    ratios: {
      sink_insert_vs_plain_insert: ratio(m[`sink_${best}_insert`]!, m.insert!),
      sink_insert_vs_odku: ratio(m[`sink_${best}_insert`]!, m.insert_odku!),
      sink_upsert_vs_odku: ratio(m[`sink_${best}_upsert`]!, m.upsert_odku!),
    },
    server: ((await pool.query('SELECT VERSION() AS v'))[0] as Array<{ v: string }>)[0]!.v,
  };
  console.log(JSON.stringify(result));
  console.log(
    `| apply MariaDB ${N}×${table.columns.length} | sink (${best}) inserts ${m[`sink_${best}_insert`]} rows/s, upserts ${m[`sink_${best}_upsert`]} | plain INSERT ${m.insert} | INSERT…ODKU ${m.insert_odku}/${m.upsert_odku} | inserts/plain **${result.ratios.sink_insert_vs_plain_insert}**, vs ODKU ${result.ratios.sink_insert_vs_odku}/${result.ratios.sink_upsert_vs_odku} |`,
  );
} finally {
  await pool.end();
  await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
  await admin.end();
}
