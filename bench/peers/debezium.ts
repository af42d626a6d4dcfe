// Benchmark against the incumbent: the same backlog through Debezium (PostgreSQL connector → Kafka →
// Debezium JDBC sink, on Kafka Connect) and through sluice (postgres log connector → Kafka →
// PostgreSQL), into the same Kafka broker and the same kind of target (a fresh database on the
// machine's PostgreSQL), in the same run.
//
// Backlog: ROWS inserts of a 10-column row, written after the publication and the replication slot
// exist, in one INSERT … SELECT generate_series (as bench/log-capture.ts). Each side is timed from its
// connectors' start (Debezium: both connectors POSTed to a Connect worker already up; sluice:
// runPipeline called) to the last row committed on the target, then checked at the target: count and
// an md5 over every column's text in key order equal to the source's. Also printed: the steady rate
// from the first row on the target to the last (start-up excluded), and Debezium's time from the
// worker's JVM spawn.
//
// Everything is started and stopped here: the broker (dev/kafka, unless SLUICE_TEST_KAFKA names one),
// the Connect worker (jars from bench/peers/debezium/fetch.sh, cached in bench/peers/.cache), the
// scratch databases and replication slots; all of it released on failure.
//
// Run: npm run bench -- debezium   (or: node --import tsx bench/peers/debezium.ts [ROWS=200000])
// Needs Java 17+, Maven (first run fetches ~100 MB from Maven Central), PostgreSQL at 127.0.0.1:5432
// with wal_level=logical, user postgres with trust auth (SLUICE_TEST_POSTGRES_URL to change).
// Debezium's converter: JSON with schemas, and Avro through Apicurio's converter (2.6.13.Final, the
// newest on Maven Central with its parent POM) writing Confluent's wire format against Apicurio
// Registry (dev/apicurio/start.sh); both are run and the faster is the reference.
// Env knobs (defaults are the settings reported): DBZ_BATCH (source max.batch.size, sink
// batch.size and consumer max.poll.records, 4096), DBZ_SINK_TASKS (sink tasks.max, 3: one per
// partition), DBZ_REWRITE (pgjdbc reWriteBatchedInserts, true), DBZ_HEAP (worker -Xmx, 2g),
// DBZ_CONVERTER (json,avro), SLUICE_BENCH_ONLY=debezium|sluice (one side only), SLUICE_KAFKA_DRIVER
// (auto, confluent, kafkajs: sluice's Kafka client), DBZ_LOG=INFO and
// DBZ_KEEP=1 (the worker's log, kept under bench/peers/.cache/run), SLUICE_LOG=info, BENCH_TRACE=1
// (rows on the target each second).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { runPipeline, type RunningPipeline } from '../../src/pipeline/run.js';
import { loadKafkaDriver } from '../../src/transport/kafka/index.js';
import { POSTGRES_URL, scratchPostgres, type ScratchPostgres } from '../../test/support/databases.js';
import { startKafka, uniqueName, type KafkaCluster } from '../../test/support/kafka.js';

const ROWS = Number(process.argv[2] ?? 200_000);
const ONLY = process.env.SLUICE_BENCH_ONLY;
/** sluice's Kafka client: auto (Confluent's where installed), confluent or kafkajs. */
const SLUICE_DRIVER = (process.env.SLUICE_KAFKA_DRIVER ?? 'auto') as 'auto' | 'confluent' | 'kafkajs';
const DBZ_BATCH = Number(process.env.DBZ_BATCH ?? 4096);
const DBZ_SINK_TASKS = Number(process.env.DBZ_SINK_TASKS ?? 3);
const DBZ_REWRITE = (process.env.DBZ_REWRITE ?? 'true') === 'true';
const DBZ_HEAP = process.env.DBZ_HEAP ?? '2g';
const CONVERTERS = (process.env.DBZ_CONVERTER ?? 'json,avro').split(',') as Array<'json' | 'avro'>;
const SLUICE_APPLY = { concurrency: 16, batchSize: 5000 };
const TIMEOUT_MS = Math.max(600_000, ROWS * 5); // ≥ 200 rows/s or fail
const here = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

const DDL = `CREATE TABLE t (id bigint PRIMARY KEY, a int, b bigint, c numeric(12,2), d text, e text, f timestamptz, g boolean, h double precision, i text)`;
const FILL = (n: number) =>
  `INSERT INTO t SELECT g, g % 1000, g * 7, (g % 100000) / 100.0, md5(g::text), repeat('x', 20), now(), g % 2 = 0, g / 3.0, 'row ' || g FROM generate_series(1, ${n}) g`;
// Every column's text, in key order; the same session settings (TimeZone, extra_float_digits) on both sides.
const CHECKSUM = `SELECT count(*)::bigint AS n, md5(coalesce(string_agg(concat_ws('|', id, a, b, c, d, e, f, g, h, i), E'\\n' ORDER BY id), '')) AS md5 FROM t`;

interface Side {
  rows_per_s: number;
  steady_rows_per_s: number;
  seconds: number;
  first_row_s: number;
  count: number;
  md5_ok: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What is running now (broker, worker, registry, pipeline, databases): released in reverse on SIGINT/SIGTERM; the finally blocks release it otherwise. */
const live = new Set<() => Promise<unknown>>();
function hold(release: () => Promise<unknown>): () => Promise<void> {
  let once: Promise<unknown> | undefined;
  const r = () => (once ??= release());
  live.add(r);
  return async () => {
    live.delete(r);
    await r();
  };
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(
    sig,
    () =>
      void (async () => {
        for (const r of [...live].reverse()) await r().catch(() => {});
        process.exit(130);
      })(),
  );
}

/** A scratch database whose drop() is also run on a signal. */
async function scratch(): Promise<ScratchPostgres> {
  const db = await scratchPostgres();
  const drop = hold(() => db.drop());
  return { database: db.database, url: db.url, pool: db.pool, drop };
}

/**
 * Watches the target fill up with ids 1..ROWS at low cost: ids below `lo` are known present (whole
 * chunks counted complete before), so each poll counts only the rows above it (the rows arrive
 * roughly in id order on every partition). Resolves with the times of the first row and of the poll
 * that saw all of them.
 */
async function watch(
  dst: ScratchPostgres,
  t0: number,
  failed: () => Promise<string | undefined>,
): Promise<{ first: number; last: number }> {
  const CHUNK = 10_000;
  let lo = 0; // every id ≤ lo is present
  let first: number | undefined;
  let lastCheck = 0;
  let lastTrace = 0;
  const deadline = t0 + TIMEOUT_MS;
  for (;;) {
    const { rows } = await dst.pool.query<{ c: string; n: string }>(
      `SELECT ((id - 1) / ${CHUNK})::text AS c, count(*)::text AS n FROM t WHERE id > $1 GROUP BY 1 ORDER BY 1`,
      [lo],
    );
    const now = performance.now();
    let seen = lo;
    for (const r of rows) seen += Number(r.n);
    if (seen > 0 && first === undefined) first = now;
    if (process.env.BENCH_TRACE && Math.floor(now / 1000) !== Math.floor(lastTrace / 1000)) {
      lastTrace = now;
      console.error(`${((now - t0) / 1000).toFixed(1)} s: ${seen} rows on the target`);
    }
    if (seen >= ROWS) return { first: first!, last: now };
    // advance lo over complete chunks
    for (const r of rows) {
      const c = Number(r.c);
      const size = Math.min(CHUNK, ROWS - c * CHUNK);
      if (c * CHUNK === lo && Number(r.n) === size) lo += size;
      else break;
    }
    if (now > deadline) throw new Error(`target has ${seen} of ${ROWS} rows after ${Math.round((now - t0) / 1000)} s`);
    if (now - lastCheck > 2000) {
      lastCheck = now;
      const why = await failed();
      if (why) throw new Error(why);
    }
    await sleep(25);
  }
}

async function checksum(db: ScratchPostgres): Promise<{ n: number; md5: string }> {
  const { rows } = await db.pool.query<{ n: string; md5: string }>(CHECKSUM);
  return { n: Number(rows[0]!.n), md5: rows[0]!.md5 };
}

/** Source and target databases, the table on both, publication + slot, then the backlog. */
async function prepare(slot: string): Promise<{ src: ScratchPostgres; dst: ScratchPostgres; expected: { n: number; md5: string } }> {
  const src = await scratch();
  const dst = await scratch();
  await src.pool.query(DDL);
  await dst.pool.query(DDL);
  await src.pool.query(`CREATE PUBLICATION ${slot} FOR TABLE t`);
  await src.pool.query(`SELECT pg_create_logical_replication_slot('${slot}', 'pgoutput')`);
  await src.pool.query(FILL(ROWS));
  await src.pool.query('ANALYZE t');
  return { src, dst, expected: await checksum(src) };
}

function result(
  t0: number,
  w: { first: number; last: number },
  got: { n: number; md5: string },
  expected: { n: number; md5: string },
): Side {
  const seconds = (w.last - t0) / 1000;
  return {
    rows_per_s: Math.round(ROWS / seconds),
    steady_rows_per_s: Math.round(ROWS / ((w.last - w.first) / 1000)),
    seconds: Math.round(seconds * 100) / 100,
    first_row_s: Math.round((w.first - t0) / 10) / 100,
    count: got.n,
    md5_ok: got.md5 === expected.md5 && got.n === expected.n,
  };
}

// ---------------------------------------------------------------- Debezium on Kafka Connect

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const props = (o: Record<string, string | number | boolean>) =>
  Object.entries(o)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n') + '\n';

async function stopProcess(p: ChildProcess, graceMs = 20_000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

type Converter = 'json' | 'avro';

/** Apicurio Registry (dev/apicurio/start.sh, v2 API used by its 2.6 converter) on a free port, for the Avro variant. */
async function startApicurio(dir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const log = createWriteStream(join(dir, 'apicurio.log'));
  const p = spawn('bash', [join(repo, 'dev/apicurio/start.sh'), String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout!.pipe(log);
  p.stderr!.pipe(log);
  const url = `http://127.0.0.1:${port}/apis/registry/v2`;
  const stop = hold(() => stopProcess(p));
  try {
    for (const deadline = Date.now() + 600_000; ; await sleep(250)) {
      if (p.exitCode !== null) throw new Error(`Apicurio Registry exited (${p.exitCode}); see ${join(dir, 'apicurio.log')}`);
      if (Date.now() > deadline) throw new Error('Apicurio Registry not up after 600 s');
      if ((await fetch(`${url}/system/info`).catch(() => undefined))?.ok) return { url, stop };
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Connector-level converter settings: JSON with schemas (the worker's), or Apicurio's Avro converter writing Confluent's wire format. */
function converterConfig(kind: Converter, registryUrl?: string): Record<string, string> {
  if (kind === 'json') return {};
  const out: Record<string, string> = {};
  for (const side of ['key', 'value']) {
    Object.assign(out, {
      [`${side}.converter`]: 'io.apicurio.registry.utils.converter.AvroConverter',
      [`${side}.converter.apicurio.registry.url`]: registryUrl!,
      [`${side}.converter.apicurio.registry.auto-register`]: 'true',
      [`${side}.converter.apicurio.registry.find-latest`]: 'true',
      [`${side}.converter.apicurio.registry.as-confluent`]: 'true',
      [`${side}.converter.apicurio.registry.use-id`]: 'contentId',
      [`${side}.converter.apicurio.registry.headers.enabled`]: 'false',
    });
  }
  return out;
}

async function debezium(
  kafka: KafkaCluster,
  workRoot: string,
  converter: Converter,
): Promise<Side & { converter: Converter; settings: Record<string, unknown>; spawn_to_done_s: number }> {
  const { stdout } = await run('bash', [join(here, 'debezium/fetch.sh')], { timeout: 1_800_000, maxBuffer: 1 << 20 });
  const cache = stdout.trim().split('\n').pop()!;
  const id = `dbz_${process.pid}_${Date.now().toString(36)}`;
  const { src, dst, expected } = await prepare(id);
  const dir = mkdtempSync(join(workRoot, 'connect-'));
  let stopWorker: (() => Promise<void>) | undefined;
  let apicurio: { url: string; stop: () => Promise<void> } | undefined;
  try {
    if (converter === 'avro') apicurio = await startApicurio(dir);
    const conv = converterConfig(converter, apicurio?.url);
    const port = await freePort();
    const rest = `http://127.0.0.1:${port}`;
    const pg = new URL(POSTGRES_URL);
    writeFileSync(
      join(dir, 'log4j2.properties'),
      `rootLogger.level=${process.env.DBZ_LOG ?? 'WARN'}\nrootLogger.appenderRef.o.ref=O\nappender.o.type=Console\nappender.o.name=O\nappender.o.layout.type=PatternLayout\nappender.o.layout.pattern=[%d] %p %m (%c)%n\n`,
    );
    writeFileSync(
      join(dir, 'worker.properties'),
      props({
        'bootstrap.servers': kafka.bootstrap,
        'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
        'key.converter.schemas.enable': true,
        'value.converter.schemas.enable': true,
        'offset.storage.file.filename': join(dir, 'offsets'),
        'offset.flush.interval.ms': 10_000,
        'plugin.path': join(cache, 'plugins'),
        listeners: rest,
        'connector.client.config.override.policy': 'All',
      }),
    );
    const topic = `${id}.public.t`;
    const source = {
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'tasks.max': '1',
      'database.hostname': pg.hostname,
      'database.port': pg.port || '5432',
      'database.user': decodeURIComponent(pg.username || 'postgres'),
      'database.password': decodeURIComponent(pg.password || 'postgres'),
      'database.dbname': src.database,
      'topic.prefix': id,
      'plugin.name': 'pgoutput',
      'slot.name': id,
      'publication.name': id,
      'publication.autocreate.mode': 'disabled',
      'snapshot.mode': 'no_data',
      'table.include.list': 'public.t',
      'topic.creation.default.partitions': '3',
      'topic.creation.default.replication.factor': '1',
      'max.batch.size': String(DBZ_BATCH),
      'max.queue.size': String(DBZ_BATCH * 4),
      'producer.override.batch.size': '262144',
      'producer.override.linger.ms': '5',
      ...conv,
    };
    const sink = {
      'connector.class': 'io.debezium.connector.jdbc.JdbcSinkConnector',
      'tasks.max': String(DBZ_SINK_TASKS),
      topics: topic,
      'connection.url': `jdbc:postgresql://${pg.hostname}:${pg.port || '5432'}/${dst.database}${DBZ_REWRITE ? '?reWriteBatchedInserts=true' : ''}`,
      'connection.username': decodeURIComponent(pg.username || 'postgres'),
      'connection.password': decodeURIComponent(pg.password || 'postgres'),
      'insert.mode': 'upsert',
      'primary.key.mode': 'record_key',
      'delete.enabled': 'true',
      'schema.evolution': 'none',
      'collection.name.format': '${source.table}',
      'batch.size': String(DBZ_BATCH),
      'consumer.override.max.poll.records': String(DBZ_BATCH),
      'consumer.override.auto.offset.reset': 'earliest',
      ...conv,
    };
    writeFileSync(join(dir, 'source.json'), JSON.stringify(source, null, 2));
    writeFileSync(join(dir, 'sink.json'), JSON.stringify(sink, null, 2));
    const log = createWriteStream(join(dir, 'connect.log'));
    const tSpawn = performance.now();
    // What bin/connect-standalone.sh runs (KAFKA_HEAP_OPTS / KAFKA_JVM_PERFORMANCE_OPTS), with a 2 GB heap.
    const worker = spawn(
      'java',
      [
        '-Xms256m',
        `-Xmx${DBZ_HEAP}`,
        '-server',
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-XX:InitiatingHeapOccupancyPercent=35',
        '-XX:+ExplicitGCInvokesConcurrent',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
        '-cp',
        `${join(cache, 'libs')}/*`,
        'org.apache.kafka.connect.cli.ConnectStandalone',
        join(dir, 'worker.properties'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    stopWorker = hold(() => stopProcess(worker));
    worker.stdout!.pipe(log);
    worker.stderr!.pipe(log);
    const tail = () => readFileSync(join(dir, 'connect.log'), 'utf8').split('\n').slice(-40).join('\n');
    // The worker is up when its REST API answers.
    for (const deadline = Date.now() + 180_000; ;) {
      if (worker.exitCode !== null) throw new Error(`Connect worker exited (${worker.exitCode}):\n${tail()}`);
      if (Date.now() > deadline) throw new Error(`Connect worker not up after 180 s:\n${tail()}`);
      try {
        if ((await fetch(`${rest}/connectors`)).ok) break;
      } catch {
        /* not listening yet */
      }
      await sleep(100);
    }
    const post = async (name: string, config: Record<string, string>) => {
      const res = await fetch(`${rest}/connectors`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, config }),
      });
      if (!res.ok) throw new Error(`POST /connectors ${name}: ${res.status} ${await res.text()}`);
    };
    const failed = async (): Promise<string | undefined> => {
      if (worker.exitCode !== null) return `Connect worker exited (${worker.exitCode}):\n${tail()}`;
      for (const name of ['source', 'sink']) {
        const res = await fetch(`${rest}/connectors/${name}/status`).catch(() => undefined);
        if (!res?.ok) continue;
        const st = (await res.json()) as { connector: { state: string; trace?: string }; tasks: Array<{ state: string; trace?: string }> };
        for (const s of [st.connector, ...st.tasks])
          if (s.state === 'FAILED') return `Debezium ${name} failed: ${s.trace?.split('\n').slice(0, 12).join('\n')}`;
      }
      return undefined;
    };
    const t0 = performance.now();
    await post('source', source);
    await post('sink', sink);
    const w = await watch(dst, t0, failed);
    const got = await checksum(dst);
    const side = result(t0, w, got, expected);
    return {
      ...side,
      converter,
      spawn_to_done_s: Math.round((w.last - tSpawn) / 10) / 100,
      settings: {
        converter:
          converter === 'json'
            ? 'JsonConverter, schemas.enable=true (key and value)'
            : 'Apicurio AvroConverter 2.6.13 (as-confluent, contentId) against Apicurio Registry 3.0.9',
        'source.max.batch.size': DBZ_BATCH,
        'source.max.queue.size': DBZ_BATCH * 4,
        'producer.batch.size': 262144,
        'producer.linger.ms': 5,
        'sink.tasks.max': DBZ_SINK_TASKS,
        'sink.batch.size': DBZ_BATCH,
        'consumer.max.poll.records': DBZ_BATCH,
        reWriteBatchedInserts: DBZ_REWRITE,
        heap: DBZ_HEAP,
        partitions: 3,
      },
    };
  } finally {
    if (stopWorker) await stopWorker();
    if (apicurio) await apicurio.stop();
    await src.drop().catch((e) => console.error(`drop ${src.database}: ${(e as Error).message}`));
    await dst.drop().catch((e) => console.error(`drop ${dst.database}: ${(e as Error).message}`));
    if (!process.env.DBZ_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- sluice

async function sluice(kafka: KafkaCluster): Promise<Side & { settings: Record<string, unknown> }> {
  const name = `bench_dbz_sluice_${process.pid}`;
  const { src, dst, expected } = await prepare(name);
  const state = await scratch();
  let stopPipeline: (() => Promise<void>) | undefined;
  try {
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
        snapshot: 'never',
        batchSize: 5000,
      },
      transport: { kind: 'kafka', driver: SLUICE_DRIVER, brokers: kafka.brokers, topic: uniqueName('bench-dbz-sluice'), partitions: 3 },
      registry: { port: 0 },
      apply: SLUICE_APPLY,
      target: { connection: { dialect: 'postgres', url: dst.url } },
    });
    const t0 = performance.now();
    const running: RunningPipeline = await runPipeline(cfg, pino({ level: process.env.SLUICE_LOG ?? 'warn' }, pino.destination(2)));
    stopPipeline = hold(() => running.stop());
    let error: unknown;
    running.done.catch((e: unknown) => {
      error = e;
    });
    const w = await watch(dst, t0, async () => (error ? `sluice pipeline failed: ${(error as Error).stack ?? String(error)}` : undefined));
    const got = await checksum(dst);
    return {
      ...result(t0, w, got, expected),
      settings: {
        transport: `kafka (${loadKafkaDriver(SLUICE_DRIVER).driverName}), Avro + embedded registry, 3 partitions`,
        'source.batchSize': 5000,
        'apply.concurrency': SLUICE_APPLY.concurrency,
        'apply.batchSize': SLUICE_APPLY.batchSize,
      },
    };
  } finally {
    await stopPipeline?.().catch((e) => console.error(`sluice stop: ${(e as Error).message}`));
    for (const db of [src, dst, state]) await db.drop().catch((e) => console.error(`drop ${db.database}: ${(e as Error).message}`));
  }
}

// ---------------------------------------------------------------- main

const workRoot = join(here, '.cache', 'run');
mkdirSync(workRoot, { recursive: true });
const loadStart = loadavg().map((x) => Math.round(x * 100) / 100); // other work on the machine skews both sides
const kafka = await startKafka();
const stopKafka = hold(() => kafka.stop());
type DbzSide = Awaited<ReturnType<typeof debezium>>;
const dbzRuns: DbzSide[] = [];
let sl: Awaited<ReturnType<typeof sluice>> | undefined;
try {
  if (ONLY !== 'sluice') for (const c of CONVERTERS) dbzRuns.push(await debezium(kafka, workRoot, c));
  if (ONLY !== 'debezium') sl = await sluice(kafka);
} finally {
  await stopKafka().catch((e) => console.error(`kafka stop: ${(e as Error).message}`));
}
for (const s of dbzRuns)
  if (!s.md5_ok) {
    console.error(`debezium (${s.converter}): the target differs from the source (count ${s.count} of ${ROWS}, or the checksum)`);
    process.exitCode = 1;
  }
if (sl && !sl.md5_ok) {
  console.error(`sluice: the target differs from the source (count ${sl.count} of ${ROWS}, or the checksum)`);
  process.exitCode = 1;
}
// Debezium's reference is its best converter setup of this run.
const dbz = dbzRuns.filter((s) => s.md5_ok).sort((a, b) => b.rows_per_s - a.rows_per_s)[0];
const ratio = dbz && sl?.md5_ok ? Math.round((sl.rows_per_s / dbz.rows_per_s) * 100) / 100 : null;
const steadyRatio = dbz && sl?.md5_ok ? Math.round((sl.steady_rows_per_s / dbz.steady_rows_per_s) * 100) / 100 : null;
const k = (x: number) => `${Math.round(x / 100) / 10}k/s`;
const hardware = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GB RAM, ${new Date().toISOString().slice(0, 10)}`;
console.log(
  JSON.stringify({
    bench: 'debezium-vs-sluice',
    rows: ROWS,
    load_average_start: loadStart,
    load_average_end: loadavg().map((x) => Math.round(x * 100) / 100),
    debezium: dbzRuns,
    sluice: sl ?? null,
    best_converter: dbz?.converter ?? null,
    sluice_vs_debezium: ratio,
    steady_sluice_vs_debezium: steadyRatio,
    goal: 3.0,
    hardware,
  }),
);
const others = dbzRuns
  .filter((s) => s !== dbz)
  .map((s) => `; ${s.converter} ${k(s.rows_per_s)}`)
  .join('');
console.log(
  `| vs Debezium 3.6.0 (${ROWS} rows, PG → Kafka → PG) | Debezium ${dbz ? `${k(dbz.rows_per_s)} (${dbz.converter === 'json' ? 'JSON with schemas' : 'Avro, Apicurio converter'}${others})` : 'n/a'}, sluice ${sl ? k(sl.rows_per_s) : 'n/a'}: **${ratio ?? 'n/a'}** (goal ≥ 3.0; first row to last: ${steadyRatio ?? 'n/a'}) | ${hardware} |`,
);
