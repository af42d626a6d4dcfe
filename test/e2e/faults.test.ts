// Faults in the middle of a stream, each followed by recovery: nothing lost, nothing applied twice in
// effect (the target ends equal to the source's final state).
//  - `sluice run` killed with SIGKILL mid-stream, then started again;
//  - the Kafka broker restarted mid-stream (its own broker, not the suite's);
//  - the target PostgreSQL server restarted mid-stream (a throwaway cluster;
//    docs/guarantees.md: throwaway-servers).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { createOutboxWriter, type OutboxChange } from '../../src/capture/outbox/writer.js';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { kafkaSkipReason, startKafka, uniqueName, waitFor, type KafkaCluster } from '../support/kafka.js';
import { freePort, hasCommand, skipUnless } from '../support/services.js';

const run = promisify(execFile);
const KEYS = 2_000;
const ROUNDS = 10;
const DDL = 'CREATE TABLE counter (id bigint PRIMARY KEY, seq integer NOT NULL)';

/** Writes ROUNDS updates of KEYS keys into the source outbox, in small transactions, over time. */
async function produceWorkload(src: pg.Pool, onHalf: () => Promise<void>): Promise<void> {
  const writer = createOutboxWriter({ dialect: 'postgres' });
  for (let u = 1; u <= ROUNDS; u++) {
    const changes: OutboxChange[] = [];
    for (let id = 1; id <= KEYS; id++) changes.push({ table: 'counter', op: u === 1 ? 'c' : 'u', row: { id, seq: u } });
    for (let i = 0; i < changes.length; i += 250) {
      const c = await src.connect();
      try {
        await c.query('BEGIN');
        await c.query(`INSERT INTO counter SELECT g, ${u} FROM generate_series(${i + 1}, ${Math.min(i + 250, KEYS)}) g ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq`);
        await writer.write(c, changes.slice(i, i + 250));
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    }
    if (u === ROUNDS / 2) await onHalf();
  }
}

async function targetCaughtUp(target: pg.Pool): Promise<boolean> {
  const r = await target.query('SELECT count(*)::int AS n FROM counter WHERE seq = $1', [ROUNDS]).catch(() => ({ rows: [{ n: -1 }] }));
  return r.rows[0].n === KEYS;
}

async function assertEqual(source: pg.Pool, target: pg.Pool): Promise<void> {
  const q = 'SELECT md5(string_agg(id::text || \':\' || seq::text, \',\' ORDER BY id)) AS h, count(*)::int AS n FROM counter';
  const [a, b] = [(await source.query(q)).rows[0], (await target.query(q)).rows[0]];
  assert.deepEqual(b, a);
}

const kafkaSkip = await kafkaSkipReason();
const pgSkip = skipUnless(await postgresAvailable(), POSTGRES_WHAT);

describe('faults mid-stream', { skip: kafkaSkip || pgSkip }, () => {
  let kafka: KafkaCluster;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-faults-'));
  before(async () => { kafka = await startKafka({ dedicated: true }); }, { timeout: 600_000 });
  after(async () => {
    await kafka?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('sluice run killed with SIGKILL mid-stream, then restarted: target equals source', { timeout: 600_000 }, async () => {
    const src = await scratchPostgres();
    const dst = await scratchPostgres();
    let child: ChildProcess | undefined;
    try {
      await src.pool.query(DDL);
      await dst.pool.query(DDL);
      await src.pool.query(createOutboxWriter({ dialect: 'postgres' }).ddl);
      const configFile = join(dir, 'kill.yaml');
      writeFileSync(configFile, JSON.stringify({
        name: 'faults-kill', state: { dataDir: join(dir, 'kill-state') },
        source: { connector: 'outbox', connection: { dialect: 'postgres', url: src.url }, tables: ['counter'], pollIntervalMs: 20, batchSize: 500 },
        transport: { kind: 'kafka', brokers: kafka.brokers, topic: uniqueName('kill'), partitions: 3 },
        registry: { port: 0 }, target: { connection: { dialect: 'postgres', url: dst.url } }, apply: { concurrency: 8 },
      }));
      const start = () => spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '-c', configFile, '--no-progress'], { stdio: 'ignore', env: { ...process.env, SLUICE_LOG_LEVEL: 'error' } });
      child = start();
      await produceWorkload(src.pool, async () => {
        // Kill once something has been applied, so the crash lands mid-stream.
        await waitFor(async () => (await dst.pool.query('SELECT count(*)::int AS n FROM counter')).rows[0].n > 0, 'first changes applied', 120_000);
        child!.kill('SIGKILL');
        await new Promise((r) => child!.once('exit', r));
        child = start();
      });
      await waitFor(() => targetCaughtUp(dst.pool), 'target caught up after the restart', 300_000);
      await assertEqual(src.pool, dst.pool);
    } finally {
      child?.kill('SIGKILL');
      await src.drop();
      await dst.drop();
    }
  });

  test('the Kafka broker restarted mid-stream: target equals source', { timeout: 600_000 }, async () => {
    const src = await scratchPostgres();
    const dst = await scratchPostgres();
    try {
      await src.pool.query(DDL);
      await dst.pool.query(DDL);
      await src.pool.query(createOutboxWriter({ dialect: 'postgres' }).ddl);
      const pipeline = await runPipeline(parseConfig({
        name: 'faults-broker', state: { dataDir: join(dir, 'broker-state') },
        source: { connector: 'outbox', connection: { dialect: 'postgres', url: src.url }, tables: ['counter'], pollIntervalMs: 20, batchSize: 500 },
        transport: { kind: 'kafka', brokers: kafka.brokers, topic: uniqueName('restart'), partitions: 3 },
        registry: { port: 0 }, target: { connection: { dialect: 'postgres', url: dst.url } }, apply: { concurrency: 8 },
      }), pino({ level: 'silent' }));
      try {
        await produceWorkload(src.pool, () => kafka.restart());
        await waitFor(() => targetCaughtUp(dst.pool), 'target caught up after the broker restart', 300_000);
      } finally {
        await pipeline.stop();
      }
      await assertEqual(src.pool, dst.pool);
    } finally {
      await src.drop();
      await dst.drop();
    }
  });
});

// A throwaway PostgreSQL cluster this test may restart without touching anyone else's server.
const pgBin = await run('bash', ['-c', 'dirname "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)"']).then((r) => r.stdout.trim(), () => '');
const clusterSkip = skipUnless(pgBin !== '' && (await hasCommand('runuser')), 'PostgreSQL server binaries (initdb, pg_ctl)');

describe('target database restart', { skip: pgSkip || clusterSkip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pgtarget-'));
  let port = 0;
  const asPg = (cmd: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', join(pgBin, cmd), ...args], { timeout: 120_000 });
  const pgctl = (action: string) => asPg('pg_ctl', ['-D', join(dir, 'data'), '-l', join(dir, 'log'), '-w', '-m', 'fast', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, action]);
  before(async () => {
    chmodSync(dir, 0o777);
    port = await freePort();
    await asPg('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust']);
    await pgctl('start');
  }, { timeout: 120_000 });
  after(async () => {
    await pgctl('stop').catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  test('the target server restarted mid-stream: retried, nothing lost, target equals source', { timeout: 600_000 }, async () => {
    const src: ScratchPostgres = await scratchPostgres();
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const dst = new pg.Pool({ connectionString: url, max: 2 });
    dst.on('error', () => {});
    try {
      await src.pool.query(DDL);
      await dst.query(DDL);
      await src.pool.query(createOutboxWriter({ dialect: 'postgres' }).ddl);
      const pipeline = await runPipeline(parseConfig({
        name: 'faults-target',
        source: { connector: 'outbox', connection: { dialect: 'postgres', url: src.url }, tables: ['counter'], pollIntervalMs: 20, batchSize: 500 },
        transport: { kind: 'direct' }, target: { connection: { dialect: 'postgres', url } },
      }), pino({ level: 'silent' }));
      try {
        await produceWorkload(src.pool, () => pgctl('restart').then(() => {}));
        await waitFor(() => targetCaughtUp(dst), 'target caught up after its restart', 300_000);
      } finally {
        await pipeline.stop();
      }
      await assertEqual(src.pool, dst);
    } finally {
      await dst.end();
      await src.drop();
    }
  });
});
