// Faults in the middle of a stream, each followed by recovery: nothing lost, nothing applied twice in
// effect (the target ends equal to the source's final state).
//  - `sluice run` killed with SIGKILL mid-stream, then started again;
//  - the Kafka broker restarted mid-stream (its own broker, not the suite's), with each driver; with
//    kafkajs the broker stays down until the consumer has crashed, so every run goes through the
//    crash, its shutdown path and the rejoin (a crash used to leave an unhandled rejection and a
//    pipeline whose stop() never returned);
//  - the target PostgreSQL server restarted mid-stream (a throwaway cluster;
//    docs/guarantees.md: throwaway-servers);
//  - the source PostgreSQL server restarted while its log streams (a throwaway cluster with
//    wal_level=logical): the replication connection comes back by itself;
//  - an error nothing awaited inside `sluice run`: logged, and the process exits non-zero.
import { after, before, describe, test } from 'node:test';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
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
import { loadKafkaDriver, type KafkaDriverName } from '../../src/transport/kafka/index.js';
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
        await c.query(
          `INSERT INTO counter SELECT g, ${u} FROM generate_series(${i + 1}, ${Math.min(i + 250, KEYS)}) g ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq`,
        );
        await writer.write(c, changes.slice(i, i + 250));
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    }
    if (u === ROUNDS / 2) await onHalf();
  }
}

async function keysAt(target: pg.Pool, round: number): Promise<boolean> {
  const r = await target.query('SELECT count(*)::int AS n FROM counter WHERE seq = $1', [round]).catch(() => ({ rows: [{ n: -1 }] }));
  return r.rows[0].n === KEYS;
}

function targetCaughtUp(target: pg.Pool): Promise<boolean> {
  return keysAt(target, ROUNDS);
}

async function assertEqual(source: pg.Pool, target: pg.Pool): Promise<void> {
  const q = "SELECT md5(string_agg(id::text || ':' || seq::text, ',' ORDER BY id)) AS h, count(*)::int AS n FROM counter";
  const [a, b] = [(await source.query(q)).rows[0], (await target.query(q)).rows[0]];
  assert.deepEqual(b, a);
}

const kafkaSkip = await kafkaSkipReason();
const pgSkip = skipUnless(await postgresAvailable(), POSTGRES_WHAT);

describe('faults mid-stream', { skip: kafkaSkip || pgSkip }, () => {
  let kafka: KafkaCluster;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-faults-'));
  before(
    async () => {
      kafka = await startKafka({ dedicated: true });
    },
    { timeout: 600_000 },
  );
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
      writeFileSync(
        configFile,
        JSON.stringify({
          name: 'faults-kill',
          state: { dataDir: join(dir, 'kill-state') },
          source: {
            connector: 'outbox',
            connection: { dialect: 'postgres', url: src.url },
            tables: ['counter'],
            pollIntervalMs: 20,
            batchSize: 500,
          },
          transport: { kind: 'kafka', brokers: kafka.brokers, topic: uniqueName('kill'), partitions: 3 },
          registry: { port: 0 },
          target: { connection: { dialect: 'postgres', url: dst.url } },
          apply: { concurrency: 8 },
        }),
      );
      const start = () =>
        spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '-c', configFile, '--no-progress'], {
          stdio: 'ignore',
          env: { ...process.env, SLUICE_LOG_LEVEL: 'error' },
        });
      child = start();
      await produceWorkload(src.pool, async () => {
        // Kill once something has been applied, so the crash lands mid-stream.
        await waitFor(
          async () => (await dst.pool.query('SELECT count(*)::int AS n FROM counter')).rows[0].n > 0,
          'first changes applied',
          120_000,
        );
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

  for (const driver of ['kafkajs', 'confluent'] as const) {
    test(
      `the Kafka broker restarted mid-stream (${driver}): the consumer recovers by itself, target equals source`,
      { timeout: 600_000, skip: driverSkip(driver) },
      async () => {
        const name = `faults-broker-${driver}`;
        const groupId = `sluice-${name}`;
        const crashes: { retriable: boolean }[] = [];
        let rejoins = 0;
        let crashed!: () => void;
        const firstCrash = new Promise<void>((r) => (crashed = r));
        const onCrash = (m: unknown) => {
          const e = m as { groupId: string; retriable: boolean };
          if (e.groupId !== groupId) return;
          crashes.push({ retriable: e.retriable });
          crashed();
        };
        const onRejoin = (m: unknown) => void ((m as { groupId: string }).groupId === groupId && rejoins++);
        subscribe('sluice:transport:crash', onCrash);
        subscribe('sluice:transport:rejoin', onRejoin);
        const src = await scratchPostgres();
        const dst = await scratchPostgres();
        try {
          await src.pool.query(DDL);
          await dst.pool.query(DDL);
          await src.pool.query(createOutboxWriter({ dialect: 'postgres' }).ddl);
          const pipeline = await runPipeline(
            parseConfig({
              name,
              state: { dataDir: join(dir, `${name}-state`) },
              source: {
                connector: 'outbox',
                connection: { dialect: 'postgres', url: src.url },
                tables: ['counter'],
                pollIntervalMs: 20,
                batchSize: 500,
              },
              transport: { kind: 'kafka', driver, brokers: kafka.brokers, topic: uniqueName('restart'), partitions: 3 },
              registry: { port: 0 },
              target: { connection: { dialect: 'postgres', url: dst.url } },
              apply: { concurrency: 8 },
            }),
            pino({ level: 'silent' }),
          );
          let failed: unknown;
          pipeline.done.catch((err: unknown) => (failed = err));
          try {
            await produceWorkload(src.pool, async () => {
              await kafka.down();
              try {
                // kafkajs gives up on a broker that stays away and its consumer crashes; the broker
                // comes back only after that. confluent's client reconnects by itself and never
                // reports a crash.
                if (driver === 'kafkajs')
                  await waitForPromise(firstCrash, 'fixture: the kafkajs consumer crashed while the broker was down', 240_000);
              } finally {
                await kafka.up();
              }
            });
            await waitFor(
              async () => failed !== undefined || (await targetCaughtUp(dst.pool)),
              'target caught up after the broker restart',
              300_000,
            );
          } finally {
            await pipeline.stop();
          }
          assert.equal(failed, undefined, `the pipeline failed: ${String(failed)}`);
          await assertEqual(src.pool, dst.pool);
          assert.ok(
            crashes.every((c) => c.retriable),
            `every crash was retriable: ${JSON.stringify(crashes)}`,
          );
          if (driver === 'kafkajs') assert.ok(rejoins >= 1, 'the consumer rejoined after its crash');
        } finally {
          unsubscribe('sluice:transport:crash', onCrash);
          unsubscribe('sluice:transport:rejoin', onRejoin);
          await src.drop();
          await dst.drop();
        }
      },
    );
  }
});

function driverSkip(driver: KafkaDriverName): string | false {
  try {
    loadKafkaDriver(driver);
    return false;
  } catch {
    return skipUnless(false, `the ${driver} Kafka driver`);
  }
}

/** `p`, or a rejection naming `what` after `timeoutMs`. */
async function waitForPromise(p: Promise<void>, what: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      p,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// A throwaway PostgreSQL cluster this test may restart without touching anyone else's server.
const pgBin = await run('bash', [
  '-c',
  'dirname "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)"',
]).then(
  (r) => r.stdout.trim(),
  () => '',
);
const clusterSkip = skipUnless(pgBin !== '' && (await hasCommand('runuser')), 'PostgreSQL server binaries (initdb, pg_ctl)');

/** A PostgreSQL cluster of its own on a free port, which a test may restart (`settings`: extra `-c` options). */
function throwawayCluster(prefix: string, settings: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let port = 0;
  const asPg = (cmd: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', join(pgBin, cmd), ...args], { timeout: 120_000 });
  const pgctl = (action: string) =>
    asPg('pg_ctl', [
      '-D',
      join(dir, 'data'),
      '-l',
      join(dir, 'log'),
      '-w',
      '-m',
      'fast',
      '-o',
      [`-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, ...settings.map((x) => `-c ${x}`)].join(' '),
      action,
    ]);
  return {
    get url() {
      return `postgres://postgres@127.0.0.1:${port}/postgres`;
    },
    pgctl,
    async start() {
      chmodSync(dir, 0o777);
      port = await freePort();
      await asPg('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust']);
      await pgctl('start');
    },
    async stop() {
      await pgctl('stop').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('target database restart', { skip: pgSkip || clusterSkip }, () => {
  const cluster = throwawayCluster('sluice-pgtarget-');
  before(() => cluster.start(), { timeout: 120_000 });
  after(() => cluster.stop());

  test('the target server restarted mid-stream: retried, nothing lost, target equals source', { timeout: 600_000 }, async () => {
    const src: ScratchPostgres = await scratchPostgres();
    const url = cluster.url;
    const dst = new pg.Pool({ connectionString: url, max: 2 });
    dst.on('error', () => {});
    try {
      await src.pool.query(DDL);
      await dst.query(DDL);
      await src.pool.query(createOutboxWriter({ dialect: 'postgres' }).ddl);
      const pipeline = await runPipeline(
        parseConfig({
          name: 'faults-target',
          source: {
            connector: 'outbox',
            connection: { dialect: 'postgres', url: src.url },
            tables: ['counter'],
            pollIntervalMs: 20,
            batchSize: 500,
          },
          transport: { kind: 'direct' },
          target: { connection: { dialect: 'postgres', url } },
        }),
        pino({ level: 'silent' }),
      );
      try {
        await produceWorkload(src.pool, () => cluster.pgctl('restart').then(() => {}));
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

describe('source database restart (log capture)', { skip: pgSkip || clusterSkip }, () => {
  const cluster = throwawayCluster('sluice-pgsource-', ['wal_level=logical', 'max_wal_senders=4', 'max_replication_slots=4']);
  before(() => cluster.start(), { timeout: 120_000 });
  after(() => cluster.stop());

  test(
    'the source server restarted mid-stream: the replication connection comes back by itself, target equals source',
    { timeout: 600_000 },
    async () => {
      const src = new pg.Pool({ connectionString: cluster.url, max: 2 });
      src.on('error', () => {});
      const dst: ScratchPostgres = await scratchPostgres();
      const state: ScratchPostgres = await scratchPostgres();
      const lines: string[] = [];
      const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
      try {
        await src.query(DDL);
        await dst.pool.query(DDL);
        const pipeline = await runPipeline(
          parseConfig({
            name: 'faults_source',
            state: { url: state.url },
            observe: { enabled: false },
            source: { connector: 'postgres', connection: { dialect: 'postgres', url: cluster.url }, tables: ['counter'] },
            transport: { kind: 'direct' },
            target: { connection: { dialect: 'postgres', url: dst.url } },
          }),
          log,
        );
        let settled = false;
        pipeline.done.then(
          () => (settled = true),
          () => (settled = true),
        );
        try {
          // Each round sets every key's seq; a statement refused while the server restarts is sent again.
          for (let round = 1; round <= ROUNDS; round++) {
            if (round === ROUNDS / 2 + 1) {
              // The restart must hit an open replication stream, not the first connection's retries:
              // the first half is on the target first.
              await waitFor(() => keysAt(dst.pool, ROUNDS / 2), 'the first half of the rounds on the target', 300_000);
              await cluster.pgctl('restart');
            }
            for (let k = 0; k < KEYS; k += 200) {
              const upsert = () =>
                src.query(
                  'INSERT INTO counter SELECT g, $1 FROM generate_series($2::int, $3::int) g ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq',
                  [round, k + 1, k + 200],
                );
              await waitFor(
                () =>
                  upsert().then(
                    () => true,
                    () => false,
                  ),
                'the source to take writes',
              );
            }
          }
          await waitFor(() => targetCaughtUp(dst.pool), 'target caught up after the source restart', 300_000);
          assert.equal(settled, false, 'the pipeline kept running');
          assert.ok(
            lines.some((l) => l.includes('replication reconnected')),
            'the log says the replication connection came back',
          );
        } finally {
          await pipeline.stop();
        }
        await assertEqual(src, dst.pool);
      } finally {
        await src.end();
        await dst.drop();
        await state.drop();
      }
    },
  );
});

describe('sluice run: the last resort', { skip: pgSkip }, () => {
  test('a promise rejection nothing handles is logged at fatal level and sluice run exits non-zero', { timeout: 180_000 }, async (t) => {
    const src = await scratchPostgres();
    t.after(() => src.drop());
    const dst = await scratchPostgres();
    t.after(() => dst.drop());
    await src.pool.query(DDL);
    await dst.pool.query(DDL);
    const dir = mkdtempSync(join(tmpdir(), 'sluice-lastresort-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const configFile = join(dir, 'run.yaml');
    writeFileSync(
      configFile,
      JSON.stringify({
        name: 'last-resort',
        source: { connector: 'outbox', connection: { dialect: 'postgres', url: src.url }, tables: ['counter'] },
        transport: { kind: 'direct' },
        target: { connection: { dialect: 'postgres', url: dst.url } },
      }),
    );
    // Planted once the pipeline runs (`sluice run` then listens for Ctrl-C): a rejection no code awaits.
    const plant =
      "process.on('newListener', function f(ev) { if (ev !== 'SIGINT') return; process.off('newListener', f); setImmediate(() => { Promise.reject(new Error('planted by the test')); }); });";
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        `data:text/javascript,${encodeURIComponent(plant)}`,
        'src/cli/main.ts',
        'run',
        '-c',
        configFile,
        '--no-progress',
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, SLUICE_LOG_FORMAT: 'json' },
      },
    );
    t.after(() => void child.kill('SIGKILL'));
    const lines: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 1, 'exit code');
    const entries = lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as { level: number; msg: string; err?: { message: string } }];
      } catch {
        return [];
      }
    });
    const fatal = entries.find((e) => e.level === 60);
    assert.ok(fatal, `a fatal log line among: ${lines.join('\n')}`);
    assert.match(fatal.msg, /unhandled promise rejection/);
    assert.equal(fatal.err?.message, 'planted by the test');
  });
});
