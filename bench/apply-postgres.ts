// Benchmark: applying 200k rows × 10 columns to PostgreSQL through the sink (version guard,
// checkpoint, dead-letter check included), inserts into an empty table and upserts over the
// existing rows (inserts also with the new-key attempt off: newKeys false, the guarded statement
// alone), as a ratio to a plain COPY of the same rows into the table (the ceiling, no
// upsert, no guard) and to a multi-row INSERT … VALUES (500 rows) ON CONFLICT DO UPDATE, prepared,
// all measured in the same run on the same host. Goal: inserts ≥ 0.6 × COPY.
// Also the floor of any version-guarded insert: per batch, in one transaction, a COPY of the rows
// and a COPY of their version rows into the table's version table, and nothing else (no stage, no
// check, no guard): the least that "the target keeps each row's last version in a side table
// written in the same transaction" can cost, so the highest inserts ÷ COPY such a sink can reach.
// Each figure is the median of ROUNDS runs; tables are truncated before every insert run.
// Run: npm run bench -- apply   (or: node --import tsx bench/apply-postgres.ts [ROWS] [BATCH])
// Env: SLUICE_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { createSink } from '../src/apply/index.js';
import type { ChangeEvent } from '../src/core/change-event.js';
import type { Row, TableSchema } from '../src/core/table-schema.js';
import { pgTextEncoder } from '../src/metadata/pg-text.js';
import { versionTableName } from '../src/apply/dialects/pg-family.js';
import { copyEscape } from '../src/apply/dialects/pg-load.js';
import { makeRows, median, timed } from './support/measure.js';

const N = Number(process.argv[2] ?? 200_000);
const BATCH = Number(process.argv[3] ?? 20_000);
const ROUNDS = 3;
const BASE_URL = process.env.SLUICE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

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
const DDL = `CREATE TABLE bench_items (id bigint PRIMARY KEY, account integer NOT NULL, counter bigint NOT NULL, code text NOT NULL,
  note varchar(200), amount numeric(12,2) NOT NULL, ratio double precision, created_at timestamptz(6) NOT NULL, active boolean NOT NULL, valid_from date)`;
const cols = table.columns.map((c) => c.name);
// The references encode values as the sink does (one compiled encoder per column): with the
// general toPgText, encoding alone took 1.3 s of the 200k rows' COPY, twice the server's work.
const encoders = table.columns.map((c) => pgTextEncoder(c.type));
const valueText = (r: Row, i: number): string | null => {
  const v = r[cols[i]!];
  return v === null || v === undefined ? null : encoders[i]!(v);
};

// --- baselines ----------------------------------------------------------------------------------

/** The rows as COPY text, 2,000 lines a chunk. */
async function* copyLines(rows: Row[]): AsyncGenerator<string> {
  let parts: string[] = [];
  for (const r of rows) {
    parts.push(
      `${cols
        .map((_, i) => {
          const t = valueText(r, i);
          return t === null ? '\\N' : copyEscape(t);
        })
        .join('\t')}\n`,
    );
    if (parts.length === 2000) {
      yield parts.join('');
      parts = [];
    }
  }
  if (parts.length) yield parts.join('');
}

async function plainCopy(pool: pg.Pool, rows: Row[]): Promise<void> {
  const client = await pool.connect();
  try {
    await pipeline(Readable.from(copyLines(rows)), client.query(copyStreams.from(`COPY bench_items (${cols.join(', ')}) FROM STDIN`)));
  } finally {
    client.release();
  }
}

/** The version-guard floor: per BATCH rows, BEGIN, COPY rows, COPY version rows, COMMIT. */
async function copyWithVersions(pool: pg.Pool, rows: Row[], versions: string, version0: bigint): Promise<void> {
  const client = await pool.connect();
  try {
    for (let at = 0; at < rows.length; at += BATCH) {
      const batch = rows.slice(at, at + BATCH);
      await client.query('BEGIN');
      await pipeline(Readable.from(copyLines(batch)), client.query(copyStreams.from(`COPY bench_items (${cols.join(', ')}) FROM STDIN`)));
      async function* versionLines() {
        for (let i = 0; i < batch.length; i += 2000) {
          yield batch
            .slice(i, i + 2000)
            .map((r, j) => `${String(r.id)}\t${version0 + BigInt(at + i + j)}\tf\n`)
            .join('');
        }
      }
      await pipeline(
        Readable.from(versionLines()),
        client.query(copyStreams.from(`COPY ${versions} (key_text, version, deleted) FROM STDIN`)),
      );
      await client.query('COMMIT');
    }
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

async function valuesUpsert(pool: pg.Pool, rows: Row[]): Promise<void> {
  const per = 500;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (let i = 0; i < rows.length; i += per) {
      const chunk = rows.slice(i, i + per);
      const values: (string | null)[] = [];
      const tuples = chunk.map((r) => {
        const b = values.length;
        for (let j = 0; j < cols.length; j++) values.push(valueText(r, j));
        return `(${cols.map((_, j) => `$${b + j + 1}`).join(',')})`;
      });
      const text = `INSERT INTO bench_items (${cols.join(', ')}) VALUES ${tuples.join(',')} ON CONFLICT (id) DO UPDATE SET ${cols
        .slice(1)
        .map((c) => `${c} = EXCLUDED.${c}`)
        .join(', ')}`;
      await client.query({ name: `bench_values_${chunk.length}`, text, values });
    }
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

// --- sink ---------------------------------------------------------------------------------------

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

async function viaSink(sink: ReturnType<typeof createSink>, evs: ChangeEvent[]): Promise<void> {
  for (let i = 0; i < evs.length; i += BATCH) {
    const batch = evs.slice(i, i + BATCH);
    await sink.apply(batch, { name: 'bench', position: batch[batch.length - 1]!.source.position });
  }
}

// --- run ----------------------------------------------------------------------------------------

const dbName = `sluice_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: BASE_URL });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(BASE_URL);
url.pathname = `/${dbName}`;
const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
pool.on('error', () => {}); // an idle connection terminated from outside must not end the run
admin.on('error', () => {});
try {
  await pool.query(DDL);
  const rows0 = makeRows(N, 0);
  const rows1 = makeRows(N, 1);
  // A new sink per run: the new-key attempt's back-off (new-keys.ts) would otherwise carry the
  // upsert run's misses into the next round's inserts.
  const copySink = () => createSink({ dialect: 'postgres', connection: pool, tables: [table] });
  const guardedSink = () => createSink({ dialect: 'postgres', connection: pool, tables: [table], newKeys: false });
  await copySink().prepare();
  const reset = async () => {
    const versions = versionTableName('public.bench_items');
    await pool.query(`TRUNCATE bench_items, ${versions}, sluice_checkpoints`);
    await pool.query('VACUUM ANALYZE bench_items');
    await pool.query(`VACUUM ANALYZE ${versions}`);
  };
  const r: Record<string, number[]> = {
    copy: [],
    copy_with_versions: [],
    values_insert: [],
    values_upsert: [],
    sink_insert: [],
    sink_upsert: [],
    sink_guarded_insert: [],
  };
  let v = 1n;
  // Each run's events are made just before it and dropped after, as a consumer holds only the
  // batches in flight.
  const viaSinkTimed = async (make: () => ReturnType<typeof createSink>, rows: Row[]): Promise<number> => {
    const sink = make();
    await sink.prepare();
    const evs = events(rows, v);
    v += BigInt(N);
    const rate = await timed(N, () => viaSink(sink, evs));
    await sink.close(); // the pool is the bench's: left open
    return rate;
  };
  // Warm-up (JIT, catalog caches, temp stage creation).
  await reset();
  await viaSink(copySink(), events(rows0.slice(0, 20_000), v));
  v += BigInt(N);
  for (let round = 0; round < ROUNDS; round++) {
    await reset();
    r.copy!.push(await timed(N, () => plainCopy(pool, rows0)));
    await reset();
    r.copy_with_versions!.push(await timed(N, () => copyWithVersions(pool, rows0, versionTableName('public.bench_items'), v)));
    await reset();
    r.values_insert!.push(await timed(N, () => valuesUpsert(pool, rows0)));
    r.values_upsert!.push(await timed(N, () => valuesUpsert(pool, rows1)));
    await reset();
    r.sink_insert!.push(await viaSinkTimed(copySink, rows0));
    r.sink_upsert!.push(await viaSinkTimed(copySink, rows1));
    await reset();
    r.sink_guarded_insert!.push(await viaSinkTimed(guardedSink, rows0));
  }
  const m = Object.fromEntries(Object.entries(r).map(([k, xs]) => [k, Math.round(median(xs))])) as Record<string, number>;
  const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
  const result = {
    bench: 'apply-postgres',
    rows: N,
    columns: table.columns.length,
    batch: BATCH,
    rounds: ROUNDS,
    rows_per_s: m,
    ratios: {
      sink_insert_vs_copy: ratio(m.sink_insert!, m.copy!),
      sink_upsert_vs_copy: ratio(m.sink_upsert!, m.copy!),
      sink_insert_vs_values: ratio(m.sink_insert!, m.values_insert!),
      sink_upsert_vs_values: ratio(m.sink_upsert!, m.values_upsert!),
      guarded_insert_vs_copy: ratio(m.sink_guarded_insert!, m.copy!),
      version_floor_vs_copy: ratio(m.copy_with_versions!, m.copy!),
      sink_insert_vs_version_floor: ratio(m.sink_insert!, m.copy_with_versions!),
    },
    goal: { sink_insert_vs_copy: 0.6 },
    postgres: (await pool.query<{ v: string }>('SHOW server_version')).rows[0]!.v,
  };
  console.log(JSON.stringify(result));
  console.log(
    `| apply PostgreSQL ${N}×${table.columns.length} | sink inserts ${m.sink_insert} rows/s (guarded only ${m.sink_guarded_insert}), upserts ${m.sink_upsert} | COPY ${m.copy} | INSERT…ON CONFLICT ${m.values_insert}/${m.values_upsert} | inserts/COPY **${result.ratios.sink_insert_vs_copy}** (goal ≥ 0.6; guarded only ${result.ratios.guarded_insert_vs_copy}; the version-guard floor, rows + version rows COPYed, ${result.ratios.version_floor_vs_copy}, so the sink is at ${result.ratios.sink_insert_vs_version_floor} of that floor), upserts/COPY ${result.ratios.sink_upsert_vs_copy}, vs INSERT…ON CONFLICT ${result.ratios.sink_insert_vs_values}/${result.ratios.sink_upsert_vs_values} |`,
  );
} finally {
  await pool.end();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
