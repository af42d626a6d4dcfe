// Benchmark: PostgreSQL log capture, sluice's postgres connector → direct → PostgreSQL, against
// native logical replication (publication + subscription) on the same backlog shape, in the same
// run. A backlog of ROWS inserts of a 10-column row is written after the slot exists (as the native
// reference writes it after its disabled subscription's slot), then timed from the pipeline's start
// to the last row visible on the target.
// Also the snapshot rate: the same table read by the initial snapshot and applied, against
// `COPY … TO STDOUT` of that table (the floor of reading it at all).
// Run: npm run bench -- log-capture   (or: node --import tsx bench/log-capture.ts [ROWS=200000])
// Needs wal_level=logical on the machine's PostgreSQL (127.0.0.1:5432, see .ci/run) and PostgreSQL's
// server binaries for the native reference (bench/native-logrep.sh).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pino } from 'pino';
import copy from 'pg-copy-streams';
import { parseConfig } from '../src/config/load.js';
import { runPipeline } from '../src/pipeline/run.js';
import { scratchPostgres, type ScratchPostgres } from '../test/support/databases.js';

const ROWS = Number(process.argv[2] ?? 200_000);
const run = promisify(execFile);
const DDL = `CREATE TABLE t (id bigint PRIMARY KEY, a int, b bigint, c numeric(12,2), d text, e text, f timestamptz, g boolean, h double precision, i text)`;
const FILL = (n: number) => `INSERT INTO t SELECT g, g % 1000, g * 7, (g % 100000) / 100.0, md5(g::text), repeat('x', 20), now(), g % 2 = 0, g / 3.0, 'row ' || g FROM generate_series(1, ${n}) g`;

async function count(db: ScratchPostgres): Promise<number> {
  return (await db.pool.query('SELECT count(*)::int AS n FROM t')).rows[0].n as number;
}

async function untilCount(db: ScratchPostgres, n: number): Promise<void> {
  while ((await count(db)) < n) await new Promise((r) => setTimeout(r, 20));
}

async function timed(mode: 'stream' | 'snapshot'): Promise<number> {
  const [src, dst, state] = [await scratchPostgres(), await scratchPostgres(), await scratchPostgres()];
  try {
    await src.pool.query(DDL);
    await dst.pool.query(DDL);
    const name = `bench_${mode}`;
    if (mode === 'stream') {
      await src.pool.query(`CREATE PUBLICATION ${name} FOR TABLE t`);
      await src.pool.query(`SELECT pg_create_logical_replication_slot('${name}', 'pgoutput')`);
    }
    await src.pool.query(FILL(ROWS));
    await src.pool.query('ANALYZE t');
    const cfg = parseConfig({
      name, state: { url: state.url }, observe: { enabled: false },
      source: { connector: 'postgres', connection: { dialect: 'postgres', url: src.url }, tables: ['t'], slot: name, publication: name, snapshot: mode === 'stream' ? 'never' : 'initial', transactions: 'batch', maxTransactionChanges: 5000, batchSize: 5000 },
      transport: { kind: 'direct' }, apply: { batchSize: 5000 },
      target: { connection: { dialect: 'postgres', url: dst.url } },
    });
    const t0 = performance.now();
    const p = await runPipeline(cfg, pino({ level: 'silent' }));
    await untilCount(dst, ROWS);
    const s = (performance.now() - t0) / 1000;
    await p.stop();
    return ROWS / s;
  } finally {
    await src.drop();
    await dst.drop();
    await state.drop();
  }
}

async function copyRate(): Promise<number> {
  const src = await scratchPostgres();
  try {
    await src.pool.query(DDL);
    await src.pool.query(FILL(ROWS));
    const client = await src.pool.connect();
    try {
      const t0 = performance.now();
      await pipeline(client.query(copy.to('COPY t TO STDOUT')), new Writable({ write(_c, _e, cb) { cb(); } }));
      return ROWS / ((performance.now() - t0) / 1000);
    } finally {
      client.release();
    }
  } finally {
    await src.drop();
  }
}

async function nativeRate(): Promise<number | undefined> {
  try {
    const { stdout } = await run('bash', [new URL('./native-logrep.sh', import.meta.url).pathname, String(ROWS), '1'], { timeout: 3_600_000, maxBuffer: 1 << 20 });
    const m = /"median_rows_per_s":(\d+)/.exec(stdout);
    return m ? Number(m[1]) : undefined;
  } catch (err) {
    console.error(`native logical replication reference skipped: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

const native = await nativeRate();
const stream = await timed('stream');
const snapshot = await timed('snapshot');
const copyRef = await copyRate();
const r = (x: number, y: number | undefined) => (y ? Math.round((x / y) * 1000) / 1000 : null);
console.log(JSON.stringify({ bench: 'log-capture', rows: ROWS, stream_rows_per_s: Math.round(stream), native_rows_per_s: native ?? null, stream_vs_native: r(stream, native), snapshot_rows_per_s: Math.round(snapshot), copy_out_rows_per_s: Math.round(copyRef), snapshot_vs_copy: r(snapshot, copyRef) }));
console.log(`| log-capture (${ROWS} rows) | stream ${Math.round(stream / 1000)}k/s vs native logical replication ${native ? `${Math.round(native / 1000)}k/s` : 'n/a'}: **${r(stream, native) ?? 'n/a'}**; snapshot ${Math.round(snapshot / 1000)}k/s vs COPY TO ${Math.round(copyRef / 1000)}k/s: **${r(snapshot, copyRef)}** |`);
