// Benchmark: PostgreSQL log capture, sluice's postgres connector → direct → PostgreSQL, against
// native logical replication (publication + subscription) on the same backlog shape, in the same
// run. A backlog of ROWS inserts of a 10-column row is written after the slot exists (as the native
// reference writes it after its disabled subscription's slot), then timed from the pipeline's start
// to the last row visible on the target.
// Also the snapshot rate: the same table read by the initial snapshot and applied, against
// `COPY … TO STDOUT` of that table (the floor of reading it at all) and COPY TO piped into COPY FROM
// (the floor of copying it at all); and the latency at a steady
// 2,000 changes/s for SECONDS, p50/p99 from the source statement (clock_timestamp() in the row) to
// the target's commit (a trigger stamps clock_timestamp(); same machine clock), direct and Kafka.
// The floor: the same backlog read by the source alone (decoded into changes, acknowledged, nothing
// applied), which shares the one JavaScript thread with the apply side in a running pipeline.
// Run: npm run bench -- log-capture   (or: node --import tsx bench/log-capture.ts [ROWS=200000] [SECONDS=20])
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
import { startKafka, uniqueName } from '../test/support/kafka.js';
import { PostgresSource } from '../src/capture/postgres/source.js';
import { parseLsn } from '../src/capture/postgres/lsn.js';
import { introspectPostgres } from '../src/metadata/index.js';
import type { ProgressStore } from '../src/capture/snapshot/progress.js';

const ROWS = Number(process.argv[2] ?? 200_000);
const SECONDS = Number(process.argv[3] ?? 20);
const run = promisify(execFile);
const DDL = `CREATE TABLE t (id bigint PRIMARY KEY, a int, b bigint, c numeric(12,2), d text, e text, f timestamptz, g boolean, h double precision, i text)`;
const FILL = (n: number) =>
  `INSERT INTO t SELECT g, g % 1000, g * 7, (g % 100000) / 100.0, md5(g::text), repeat('x', 20), now(), g % 2 = 0, g / 3.0, 'row ' || g FROM generate_series(1, ${n}) g`;

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
      name,
      state: { url: state.url },
      observe: { enabled: false },
      source: {
        connector: 'postgres',
        connection: { dialect: 'postgres', url: src.url },
        tables: ['t'],
        slot: name,
        publication: name,
        snapshot: mode === 'stream' ? 'never' : 'initial',
        transactions: 'batch',
        maxTransactionChanges: 5000,
        batchSize: 5000,
      },
      transport: { kind: 'direct' },
      apply: { batchSize: 5000 },
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

/** The source alone: the backlog decoded into changes and acknowledged batch by batch, nothing applied. */
async function sourceOnlyRate(): Promise<number> {
  const src = await scratchPostgres();
  try {
    await src.pool.query(DDL);
    await src.pool.query(`CREATE PUBLICATION bench_floor FOR TABLE t`);
    const lsn = (await src.pool.query(`SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot('bench_floor', 'pgoutput')`)).rows[0]
      .lsn as string;
    await src.pool.query(FILL(ROWS));
    const table = await introspectPostgres(src.pool, { name: 't' });
    const source = new PostgresSource({
      name: 'floor',
      url: src.url,
      pool: src.pool,
      tables: [table],
      slot: 'bench_floor',
      publication: 'bench_floor',
      startLsn: parseLsn(lsn),
      progress: undefined as unknown as ProgressStore,
      snapshot: 'never',
      snapshotChunkRows: 10_000,
      transactions: 'batch',
      maxTransactionChanges: 5000,
      batchSize: 5000,
      statusIntervalMs: 1000,
      truncate: 'refuse',
      log: pino({ level: 'silent' }),
    });
    const t0 = performance.now();
    let n = 0;
    for await (const b of source.start()) {
      n += b.events.length;
      await source.acknowledge(b.position);
      if (n >= ROWS) break;
    }
    const rate = ROWS / ((performance.now() - t0) / 1000);
    await source.stop();
    return rate;
  } finally {
    await src.drop();
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
      await pipeline(
        client.query(copy.to('COPY t TO STDOUT')),
        new Writable({
          write(_c, _e, cb) {
            cb();
          },
        }),
      );
      return ROWS / ((performance.now() - t0) / 1000);
    } finally {
      client.release();
    }
  } finally {
    await src.drop();
  }
}

/**
 * The floor of copying the table at all: `COPY … TO STDOUT` of the source piped into `COPY … FROM
 * STDIN` of an empty target table, no version kept, nothing decoded. What a snapshot that writes
 * rows (and their versions) can be held against, beside the read alone.
 */
async function copyThroughRate(): Promise<number> {
  const [src, dst] = [await scratchPostgres(), await scratchPostgres()];
  try {
    await src.pool.query(DDL);
    await dst.pool.query(DDL);
    await src.pool.query(FILL(ROWS));
    const [from, to] = [await src.pool.connect(), await dst.pool.connect()];
    try {
      const t0 = performance.now();
      await pipeline(from.query(copy.to('COPY t TO STDOUT')), to.query(copy.from('COPY t FROM STDIN')));
      return ROWS / ((performance.now() - t0) / 1000);
    } finally {
      from.release();
      to.release();
    }
  } finally {
    await src.drop();
    await dst.drop();
  }
}

async function nativeRate(): Promise<number | undefined> {
  try {
    const { stdout } = await run('bash', [new URL('./native-logrep.sh', import.meta.url).pathname, String(ROWS), '1'], {
      timeout: 3_600_000,
      maxBuffer: 1 << 20,
    });
    const m = /"median_rows_per_s":(\d+)/.exec(stdout);
    return m ? Number(m[1]) : undefined;
  } catch (err) {
    console.error(`native logical replication reference skipped: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

const STAMP = `ALTER TABLE t ADD COLUMN applied_at timestamptz(6);
  CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.applied_at := clock_timestamp(); RETURN NEW; END $$;
  CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION stamp();`;

async function latency(kind: 'direct' | 'kafka', brokers: string[]): Promise<{ p50_ms: number; p99_ms: number; changes: number }> {
  const [src, dst, state] = [await scratchPostgres(), await scratchPostgres(), await scratchPostgres()];
  try {
    await src.pool.query(DDL);
    await dst.pool.query(DDL);
    await dst.pool.query(STAMP);
    const cfg = parseConfig({
      name: `lat_${kind}`,
      state: { url: state.url },
      observe: { enabled: false },
      source: { connector: 'postgres', connection: { dialect: 'postgres', url: src.url }, tables: ['t'] },
      transport: kind === 'direct' ? { kind: 'direct' } : { kind: 'kafka', brokers, topic: uniqueName('lat'), partitions: 3 },
      ...(kind === 'kafka' ? { registry: { port: 0 } } : {}),
      target: { connection: { dialect: 'postgres', url: dst.url } },
    });
    const p = await runPipeline(cfg, pino({ level: 'silent' }));
    const RATE = 2000;
    const TICK = 50; // ms: 100 changes per tick, each tick one source transaction
    let next = 1;
    const t0 = performance.now();
    for (let tick = 0; tick < (SECONDS * 1000) / TICK; tick++) {
      const n = (RATE * TICK) / 1000;
      await src.pool.query(
        `INSERT INTO t SELECT g, g % 1000, g * 7, (g % 100000) / 100.0, md5(g::text), repeat('x', 20), clock_timestamp(), g % 2 = 0, g / 3.0, 'row ' || g FROM generate_series(${next}, ${next + n - 1}) g`,
      );
      next += n;
      const wait = t0 + (tick + 1) * TICK - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await untilCount(dst, next - 1);
    await p.stop();
    const r = await dst.pool.query(
      `SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - f) * 1000) AS p FROM t`,
    );
    const [p50, p99] = r.rows[0].p as number[];
    return { p50_ms: Math.round(p50! * 10) / 10, p99_ms: Math.round(p99! * 10) / 10, changes: next - 1 };
  } finally {
    await src.drop();
    await dst.drop();
    await state.drop();
  }
}

const native = await nativeRate();
const stream = await timed('stream');
const snapshot = await timed('snapshot');
const copyRef = await copyRate();
const copyThrough = await copyThroughRate();
const floor = await sourceOnlyRate();
const kafka = process.env.SLUICE_TEST_KAFKA ? undefined : await startKafka();
const brokers = process.env.SLUICE_TEST_KAFKA?.split(',') ?? kafka!.brokers;
let latDirect: Awaited<ReturnType<typeof latency>>;
let latKafka: Awaited<ReturnType<typeof latency>>;
try {
  latDirect = await latency('direct', brokers);
  latKafka = await latency('kafka', brokers);
} finally {
  await kafka?.stop();
}
const r = (x: number, y: number | undefined) => (y ? Math.round((x / y) * 1000) / 1000 : null);
console.log(
  JSON.stringify({
    bench: 'log-capture',
    rows: ROWS,
    stream_rows_per_s: Math.round(stream),
    native_rows_per_s: native ?? null,
    stream_vs_native: r(stream, native),
    source_only_rows_per_s: Math.round(floor),
    source_only_vs_native: r(floor, native),
    snapshot_rows_per_s: Math.round(snapshot),
    copy_out_rows_per_s: Math.round(copyRef),
    snapshot_vs_copy: r(snapshot, copyRef),
    copy_through_rows_per_s: Math.round(copyThrough),
    snapshot_vs_copy_through: r(snapshot, copyThrough),
    latency_at_2000_per_s: { direct: latDirect, kafka: latKafka, seconds: SECONDS },
  }),
);
console.log(
  `| log-capture (${ROWS} rows) | stream ${Math.round(stream / 1000)}k/s vs native logical replication ${native ? `${Math.round(native / 1000)}k/s` : 'n/a'}: **${r(stream, native) ?? 'n/a'}** (the source alone, nothing applied: ${Math.round(floor / 1000)}k/s, ${r(floor, native) ?? 'n/a'}); snapshot ${Math.round(snapshot / 1000)}k/s vs COPY TO ${Math.round(copyRef / 1000)}k/s: **${r(snapshot, copyRef)}** (vs COPY TO piped into COPY FROM, ${Math.round(copyThrough / 1000)}k/s: ${r(snapshot, copyThrough)}) | latency @2000/s p50/p99: direct ${latDirect.p50_ms}/${latDirect.p99_ms} ms, Kafka ${latKafka.p50_ms}/${latKafka.p99_ms} ms |`,
);
