// Benchmark: the whole pipeline, PostgreSQL source outbox → (Kafka | direct) → PostgreSQL target.
//  1. throughput: a backlog of ROWS changes of a 10-column row, applied from start to the last row
//     visible on the target, through Kafka and through the direct transport; reference measured in
//     the same run: native PostgreSQL logical replication applying the same backlog shape
//     (bench/native-logrep.sh: two throwaway clusters, needs PostgreSQL's server binaries).
//  2. latency: a steady 2,000 changes/s for SECONDS, p50/p99 from the source statement to the
//     target commit (the target's trigger stamps clock_timestamp(); same machine clock).
//  3. concurrency beyond partitions: a 3-partition topic, a target whose every statement costs
//     ~2 ms (a 1 ms-each-way network, or a statement trigger sleeping), apply concurrency 16 vs 1 (batches of 20), the backlog
//     published before the appliers start, measured between the first and the last row applied
//     (start-up excluded). Goal ≥ 8. On Linux also the CPU the machine spent while concurrency 16
//     ran (support/cpu.ts) and the ratio that CPU alone would allow.
// Run: npm run bench -- e2e   (or: node --import tsx bench/e2e-pipeline.ts [ROWS=1000000] [SECONDS=20])
// SLUICE_BENCH_ONLY=throughput, =latency or =concurrency runs only part 1 (no native reference),
// part 2 or part 3 (SLUICE_BENCH_MODEL=network: part 3's network model only);
// SLUICE_BENCH_DRIVER=confluent uses Confluent's client instead of kafkajs.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load.js';
import { runPipeline } from '../src/pipeline/run.js';
import { createOutboxWriter } from '../src/capture/outbox/writer.js';
import { scratchPostgres, type ScratchPostgres } from '../test/support/databases.js';
import { startKafka, uniqueName } from '../test/support/kafka.js';
import { cpuWindow, type CpuWindow } from './support/cpu.js';
import { startLatencyProxy } from './support/latency-proxy.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const SECONDS = Number(process.argv[3] ?? 20);
const run = promisify(execFile);
const log = pino({ level: 'silent' });
const DDL = `CREATE TABLE t (id bigint PRIMARY KEY, a int, b bigint, c numeric(12,2), d text, e text, f timestamptz(6), g boolean, h double precision, i text)`;
const writer = createOutboxWriter({ dialect: 'postgres' });
const stateDir = mkdtempSync(join(tmpdir(), 'sluice-bench-e2e-'));
const kafka = process.env.SLUICE_TEST_KAFKA ? undefined : await startKafka();
const brokers = process.env.SLUICE_TEST_KAFKA?.split(',') ?? kafka!.brokers;

/** Source rows and their outbox rows in one statement pair per chunk, like a busy service. */
async function backlog(src: ScratchPostgres, from: number, count: number): Promise<void> {
  const CHUNK = 5000;
  for (let lo = from; lo < from + count; lo += CHUNK) {
    const hi = Math.min(lo + CHUNK, from + count) - 1;
    await src.pool.query(`
      WITH rows AS (
        INSERT INTO t SELECT g, g % 1000, g * 7, (g % 100000) / 100.0, md5(g::text), repeat('x', 20), clock_timestamp(), g % 2 = 0, g / 3.0, 'row ' || g
          FROM generate_series(${lo}, ${hi}) g RETURNING *)
      INSERT INTO sluice_outbox (table_name, op, key_json, row_json)
      SELECT 't', 'c', json_build_object('id', id::text)::text,
             json_build_object('id', id::text, 'a', a, 'b', b::text, 'c', c::text, 'd', d, 'e', e,
               'f', to_char(f AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'g', g, 'h', h, 'i', i)::text
        FROM rows ORDER BY id`);
  }
}

async function setup(targetExtra = ''): Promise<{ src: ScratchPostgres; dst: ScratchPostgres }> {
  const src = await scratchPostgres({ max: 4 });
  const dst = await scratchPostgres({ max: 4 });
  await src.pool.query(DDL);
  await src.pool.query(writer.ddl);
  await dst.pool.query(DDL);
  if (targetExtra) await dst.pool.query(targetExtra);
  return { src, dst };
}

function config(
  name: string,
  src: ScratchPostgres,
  dst: ScratchPostgres,
  kind: 'kafka' | 'direct',
  apply: { concurrency?: number; batchSize?: number } = {},
  poolSize = 8,
) {
  return parseConfig({
    name,
    state: { dataDir: join(stateDir, name) },
    source: { connector: 'outbox', connection: { dialect: 'postgres', url: src.url }, tables: ['t'], batchSize: 5000, pollIntervalMs: 10 },
    transport:
      kind === 'kafka'
        ? {
            kind: 'kafka',
            brokers,
            topic: uniqueName(name),
            partitions: 3,
            ...(process.env.SLUICE_BENCH_DRIVER ? { driver: process.env.SLUICE_BENCH_DRIVER } : {}),
          }
        : { kind: 'direct' },
    registry: { port: 0 },
    target: { connection: { dialect: 'postgres', url: dst.url, poolSize } },
    apply: { concurrency: apply.concurrency ?? 16, batchSize: apply.batchSize ?? 2000 },
  });
}

async function untilCount(dst: ScratchPostgres, n: number, timeoutMs = 3_600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (Number((await dst.pool.query('SELECT count(*) AS n FROM t')).rows[0].n) >= n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`target did not reach ${n} rows`);
}

async function throughput(kind: 'kafka' | 'direct'): Promise<number> {
  const { src, dst } = await setup();
  try {
    await backlog(src, 1, ROWS);
    const t0 = performance.now();
    const p = await runPipeline(config(`tp-${kind}`, src, dst, kind), log);
    await untilCount(dst, ROWS);
    const s = (performance.now() - t0) / 1000;
    await p.stop();
    return Math.round(ROWS / s);
  } finally {
    await src.drop();
    await dst.drop();
  }
}

async function latency(kind: 'kafka' | 'direct'): Promise<{ p50_ms: number; p99_ms: number; changes: number }> {
  const { src, dst } = await setup(STAMP);
  try {
    const p = await runPipeline(config(`lat-${kind}`, src, dst, kind), log);
    const RATE = 2000;
    const TICK = 50; // ms: 100 changes per tick
    let next = 1;
    const t0 = performance.now();
    for (let tick = 0; tick < (SECONDS * 1000) / TICK; tick++) {
      await backlog(src, next, (RATE * TICK) / 1000);
      next += (RATE * TICK) / 1000;
      const wait = t0 + (tick + 1) * TICK - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await untilCount(dst, next - 1, 120_000);
    await p.stop();
    const r = await dst.pool.query(
      `SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - f) * 1000) AS p FROM t`,
    );
    const [p50, p99] = r.rows[0].p as number[];
    return { p50_ms: Math.round(p50! * 10) / 10, p99_ms: Math.round(p99! * 10) / 10, changes: next - 1 };
  } finally {
    await src.drop();
    await dst.drop();
  }
}

const STAMP = `ALTER TABLE t ADD COLUMN applied_at timestamptz(6);
    CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.applied_at := clock_timestamp(); RETURN NEW; END $$;
    CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION stamp();`;

type CostModel = 'network' | 'trigger';

/**
 * Apply rate between the first and the last row applied (pipeline start-up excluded), with a
 * target where every statement costs about 2 ms:
 *   network  the target behind a proxy holding each packet 1 ms each way (one round trip per
 *            statement, as over a network; BEGIN, COPY and COMMIT pay it too; support/latency-
 *            proxy.c, whose lateness is reported);
 *   trigger  statement triggers on the target table sleeping 2 ms (only the statements that
 *            write it pay; an upsert fires the INSERT and the UPDATE trigger).
 * The whole backlog is published to Kafka first while a SHARE lock on the target table holds the
 * appliers back, so the rate is the apply side's alone, not shared with the relay's publishing in
 * the same process (on two cores that would measure the CPU split, not the lanes).
 */
interface Rate {
  rate: number;
  changes: number;
  cpu: CpuWindow | undefined;
  /** The network model's proxy: which one, and how late it let chunks go while the changes applied. */
  proxy?: { kind: 'c' | 'node'; late_mean_us: number; late_p90_us: number };
}

async function concurrencyRate(concurrency: number, model: CostModel): Promise<Rate> {
  const N = 4000 * Math.min(concurrency, 10);
  const { src, dst } = await setup(
    model === 'network'
      ? STAMP
      : `${STAMP}
    CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.002); RETURN NULL; END $$;
    CREATE TRIGGER slow AFTER INSERT OR UPDATE OR DELETE ON t FOR EACH STATEMENT EXECUTE FUNCTION slow();`,
  );
  const url = new URL(dst.url);
  const proxy = model === 'network' ? await startLatencyProxy(Number(url.port || 5432), 1) : undefined;
  if (proxy) url.port = String(proxy.port);
  const target = { ...dst, url: url.toString() };
  const gate = await dst.pool.connect();
  try {
    await backlog(src, 1, N);
    await gate.query('BEGIN');
    await gate.query('LOCK TABLE t IN SHARE MODE');
    const p = await runPipeline(
      config(`cc-${model}-${concurrency}`, src, target, 'kafka', { concurrency, batchSize: 20 }, concurrency + 2),
      log,
    );
    while (Number((await src.pool.query('SELECT count(*) AS n FROM sluice_outbox')).rows[0].n) > 0)
      await new Promise((r) => setTimeout(r, 100));
    await proxy?.lateness(); // from here on
    const cpu = cpuWindow();
    await gate.query('COMMIT');
    await untilCount(dst, N);
    const used = cpu();
    const late = await proxy?.lateness();
    await p.stop();
    const r = await dst.pool.query('SELECT extract(epoch FROM max(applied_at) - min(applied_at)) AS s FROM t');
    return {
      rate: Math.round(N / Number(r.rows[0].s)),
      changes: N,
      cpu: used,
      ...(proxy && late ? { proxy: { kind: proxy.kind, late_mean_us: late.meanUs, late_p90_us: late.p90Us } } : {}),
    };
  } finally {
    gate.release();
    await proxy?.stop();
    await src.drop();
    await dst.drop();
  }
}

interface ConcurrencyRatio {
  c1_changes_per_s: number;
  c16_changes_per_s: number;
  ratio: number;
  goal: number;
  /**
   * While concurrency 16 applied (Linux only): the share of the machine's cores busy, the CPU
   * every process (sluice, the target database, the broker, the latency proxy) spent per change,
   * sluice's own process's part of it, and the ratio that CPU would allow if nothing but CPU
   * limited concurrency 16: all cores busy ÷ CPU per change, divided by the concurrency 1 rate.
   */
  c16_cpu?: { cores: number; busy: number; us_per_change: number; sluice_us_per_change: number; cpu_bound_ratio: number };
  /** The network model's emulation error: how late its proxy let chunks go, at 1 and at 16. */
  proxy?: { kind: 'c' | 'node'; c1_late_mean_us: number; c16_late_mean_us: number; c16_late_p90_us: number };
}

async function concurrencyRatio(model: CostModel): Promise<ConcurrencyRatio> {
  const c1 = await concurrencyRate(1, model);
  const c16 = await concurrencyRate(16, model);
  const cpu = c16.cpu;
  return {
    c1_changes_per_s: c1.rate,
    c16_changes_per_s: c16.rate,
    ratio: Number((c16.rate / c1.rate).toFixed(2)),
    goal: 8,
    ...(c1.proxy && c16.proxy
      ? {
          proxy: {
            kind: c16.proxy.kind,
            c1_late_mean_us: c1.proxy.late_mean_us,
            c16_late_mean_us: c16.proxy.late_mean_us,
            c16_late_p90_us: c16.proxy.late_p90_us,
          },
        }
      : {}),
    ...(cpu
      ? {
          c16_cpu: {
            cores: cpu.cores,
            busy: Number(cpu.busy.toFixed(2)),
            us_per_change: Math.round((cpu.coreSeconds / c16.changes) * 1e6),
            sluice_us_per_change: Math.round((cpu.thisProcessCoreSeconds / c16.changes) * 1e6),
            cpu_bound_ratio: Number((cpu.cores / (cpu.coreSeconds / c16.changes) / c1.rate).toFixed(2)),
          },
        }
      : {}),
  };
}

async function nativeReference(): Promise<number | undefined> {
  const script = new URL('./native-logrep.sh', import.meta.url).pathname;
  if (!existsSync(script)) return undefined;
  try {
    const { stdout } = await run('bash', [script, String(ROWS), '1'], { timeout: 3_600_000, maxBuffer: 1 << 20 });
    const m = /"median_rows_per_s":(\d+)/.exec(stdout);
    return m ? Number(m[1]) : undefined;
  } catch (err) {
    // No PostgreSQL server binaries here, or the clusters failed to start: no reference this run.
    console.error(`native logical replication reference skipped: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

/** One part alone (SLUICE_BENCH_ONLY), for iterating on it: its JSON line, no markdown. */
const PARTS: Record<string, () => Promise<object>> = {
  throughput: async () => ({
    rows: ROWS,
    kafka_changes_per_s: await throughput('kafka'),
    direct_changes_per_s: await throughput('direct'),
  }),
  latency: async () => ({ latency_at_2000_per_s: { kafka: await latency('kafka'), direct: await latency('direct'), seconds: SECONDS } }),
  concurrency: async () => ({
    concurrency_2ms_statements: {
      network: await concurrencyRatio('network'),
      ...(process.env.SLUICE_BENCH_MODEL === 'network' ? {} : { trigger: await concurrencyRatio('trigger') }),
    },
  }),
};
const only = process.env.SLUICE_BENCH_ONLY;
if (only) {
  try {
    const part = PARTS[only];
    if (!part) throw new Error(`SLUICE_BENCH_ONLY=${only}: one of ${Object.keys(PARTS).join(', ')}`);
    console.log(JSON.stringify({ bench: 'e2e-pipeline', ...(await part()) }));
  } finally {
    await kafka?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
  process.exit(0);
}

try {
  const native = await nativeReference();
  const kafkaRate = await throughput('kafka');
  const directRate = await throughput('direct');
  const latKafka = await latency('kafka');
  const latDirect = await latency('direct');
  const network = await concurrencyRatio('network');
  const trigger = await concurrencyRatio('trigger');
  const result = {
    bench: 'e2e-pipeline',
    rows: ROWS,
    columns: 10,
    native_logical_replication_rows_per_s: native ?? null,
    kafka_changes_per_s: kafkaRate,
    direct_changes_per_s: directRate,
    kafka_ratio_to_native: native ? Number((kafkaRate / native).toFixed(3)) : null,
    direct_ratio_to_native: native ? Number((directRate / native).toFixed(3)) : null,
    latency_at_2000_per_s: { kafka: latKafka, direct: latDirect, seconds: SECONDS },
    concurrency_2ms_statements: { network, trigger },
  };
  console.log(JSON.stringify(result));
  console.log(
    `| e2e ${ROWS} changes | kafka ${kafkaRate}/s, direct ${directRate}/s | native logical replication ${native ?? 'n/a'}/s | ratios ${result.kafka_ratio_to_native ?? 'n/a'} / ${result.direct_ratio_to_native ?? 'n/a'} | latency @2000/s kafka p50 ${latKafka.p50_ms} ms p99 ${latKafka.p99_ms} ms, direct p50 ${latDirect.p50_ms} ms p99 ${latDirect.p99_ms} ms | concurrency 16 vs 1 with 2 ms statements: **${network.ratio}×** over a 2 ms network (${network.c1_changes_per_s} → ${network.c16_changes_per_s}/s${network.c16_cpu ? `; at 16, ${Math.round(network.c16_cpu.busy * 100)}% of ${network.c16_cpu.cores} cores busy, ${network.c16_cpu.us_per_change} µs of CPU per change of which sluice ${network.c16_cpu.sluice_us_per_change}: CPU alone would allow ${network.c16_cpu.cpu_bound_ratio}×` : ''}), ${trigger.ratio}× with 2 ms statement triggers (${trigger.c1_changes_per_s} → ${trigger.c16_changes_per_s}/s) |`,
  );
} finally {
  await kafka?.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
