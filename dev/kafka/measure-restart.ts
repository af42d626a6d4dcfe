/**
 * How long a consumer killed with SIGKILL and started again takes to resume, per driver: a
 * consumer process (sluice's KafkaConsumer, its defaults) applies a steady stream, is killed, is
 * started again at once; the figure is the time from the kill to the first record the new process
 * applies (its own start-up included).
 *
 *   node --import tsx dev/kafka/measure-restart.ts [--brokers HOST:PORT] [--runs 3] [--driver kafkajs|confluent]...
 *       [--session-timeout MS]   (e.g. 30000: kafkajs's own default, for comparison)
 *       [--dynamic]              (confluent without static membership, for comparison)
 *
 * Without --brokers (or SLUICE_TEST_KAFKA) it starts a broker from dev/kafka and stops it after.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureTopics, KafkaConsumer, KafkaProducer, type KafkaDriverName } from '../../src/transport/kafka/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));

if (process.argv[2] === 'child') await child(process.argv.slice(3));
else await main();

/** The consumer process: one line per applied batch, `applied <ms since epoch>`. */
async function child([driver, brokers, topic, groupId, session, dynamic]: string[]): Promise<void> {
  const consumer = new KafkaConsumer({
    driver: driver as KafkaDriverName,
    brokers: brokers!.split(','),
    groupId: groupId!,
    topics: [topic!],
    ...(session ? { sessionTimeout: Number(session) } : {}),
    ...(dynamic === 'dynamic' ? { groupInstanceId: false as const } : {}),
    handler: async () => void process.stdout.write(`applied ${Date.now()}\n`),
  });
  await consumer.start();
  process.stdout.write(`started ${Date.now()} ${consumer.instanceId ?? '-'}\n`);
  await consumer.done;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      brokers: { type: 'string' },
      runs: { type: 'string', default: '3' },
      driver: { type: 'string', multiple: true },
      'session-timeout': { type: 'string' },
      dynamic: { type: 'boolean' },
    },
  });
  const drivers = (values.driver ?? ['kafkajs', 'confluent']) as KafkaDriverName[];
  const runs = Number(values.runs);
  let brokers = values.brokers ?? process.env.SLUICE_TEST_KAFKA;
  let stopBroker = () => {};
  if (!brokers) {
    const out = execFileSync('bash', [`${here}start.sh`], { encoding: 'utf8' });
    const info = Object.fromEntries(out.trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
    brokers = info.BOOTSTRAP!;
    stopBroker = () => void execFileSync('bash', [`${here}stop.sh`, '--dir', info.DIR!, '--wipe']);
  }
  const children = new Set<ChildProcess>();
  try {
    for (const driver of drivers) {
      const topic = `restart-${driver}-${Date.now()}`;
      const conn = { driver, brokers: brokers.split(',') };
      await ensureTopics(conn, [{ topic, partitions: 3 }]);
      const producer = new KafkaProducer(conn);
      let producing = true;
      // A record every 20 ms on every partition's worth of keys: the new process has work at once.
      const feed = (async () => {
        for (let i = 0; producing; i++) {
          await producer.send([{ topic, key: Buffer.from(`k${i % 30}`), value: Buffer.from(String(i)) }]);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const groupId = `restart-${driver}-${Date.now()}`;
      const start = () => {
        const c = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'child', driver, brokers!, topic, groupId, values['session-timeout'] ?? '', values.dynamic ? 'dynamic' : ''], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        children.add(c);
        c.on('exit', () => children.delete(c));
        const lines = createInterface({ input: c.stdout! });
        const first = (prefix: string) =>
          new Promise<{ at: number; rest: string[] }>((resolve) => {
            const on = (l: string) => {
              if (!l.startsWith(prefix)) return;
              lines.off('line', on);
              const [, at, ...rest] = l.split(' ');
              resolve({ at: Number(at), rest });
            };
            lines.on('line', on);
          });
        return { c, applied: first('applied'), started: first('started') };
      };
      let current = start();
      await current.applied;
      const results: string[] = [];
      for (let r = 0; r < runs; r++) {
        // Let the member settle (and commit) before it dies.
        await new Promise((res) => setTimeout(res, 3_000));
        const exited = once(current.c, 'exit');
        const killedAt = Date.now();
        current.c.kill('SIGKILL');
        await exited;
        const next = start();
        const [{ at: startedAt, rest }, { at: appliedAt }] = await Promise.all([next.started, next.applied]);
        results.push(`${((appliedAt - killedAt) / 1000).toFixed(1)} s (joined ${((startedAt - killedAt) / 1000).toFixed(1)} s after the kill, instance ${rest[0]})`);
        current = next;
      }
      producing = false;
      await feed;
      await producer.close();
      current.c.kill('SIGTERM');
      await once(current.c, 'exit');
      const variant = [values['session-timeout'] ? `session timeout ${values['session-timeout']} ms` : '', values.dynamic ? 'dynamic membership' : ''].filter(Boolean).join(', ');
      console.log(`${driver}${variant ? ` (${variant})` : ''}: kill -9 → first record applied by the restarted process: ${results.join('; ')}`);
    }
  } finally {
    for (const c of children) c.kill('SIGKILL');
    stopBroker();
  }
}
