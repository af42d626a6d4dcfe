// The capture API with the Kafka transport answers 200 only once the broker acknowledged the
// changes (not when they reached the local outbox): the records are on the topic when the answer
// arrives, although the relay's poll interval is long. With no time left to wait the answer is 202
// (kept, published later) and the changes still reach the target.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { runPipeline, type RunningPipeline } from '../../src/pipeline/run.js';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { kafkaSkipReason, startKafka, uniqueName, waitFor, type KafkaCluster } from '../support/kafka.js';
import { skipUnless } from '../support/services.js';

const pgSkip = skipUnless(await postgresAvailable(), POSTGRES_WHAT);
const skip = pgSkip || (await kafkaSkipReason());

describe('capture API → Kafka: answered after the broker acknowledged', { skip }, () => {
  let kafka: KafkaCluster;
  let dst: ScratchPostgres;
  const stateDirs: string[] = [];
  const pipelines: RunningPipeline[] = [];
  before(
    async () => {
      kafka = await startKafka();
      dst = await scratchPostgres();
      await dst.pool.query('CREATE TABLE coupon (id bigint PRIMARY KEY, code text NOT NULL)');
    },
    { timeout: 600_000 },
  );
  after(async () => {
    for (const p of pipelines) await p.stop();
    await dst?.drop();
    await kafka?.stop();
    for (const d of stateDirs) rmSync(d, { recursive: true, force: true });
  });

  const start = async (name: string, ackTimeoutMs: number) => {
    const stateDir = mkdtempSync(join(tmpdir(), 'sluice-api-kafka-'));
    stateDirs.push(stateDir);
    const topic = uniqueName(name);
    const p = await runPipeline(
      parseConfig({
        name,
        state: { dataDir: stateDir },
        // A relay that would look at the outbox only every 5 s: an answer sent on the local write
        // would come long before the records reach the topic.
        source: { connector: 'api', tables: ['coupon'], pollIntervalMs: 5000 },
        api: { port: 0, ackTimeoutMs },
        transport: { kind: 'kafka', brokers: kafka.brokers, topic, partitions: 1 },
        registry: { port: 0 },
        target: { connection: { dialect: 'postgres', url: dst.url } },
      }),
      pino({ level: 'silent' }),
    );
    pipelines.push(p);
    return { p, topic };
  };
  const post = (p: RunningPipeline, body: unknown) =>
    fetch(`${p.apiUrl}/v1/changes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const onTopic = async (topic: string) => {
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high), 0);
    } finally {
      await admin.disconnect();
    }
  };

  test('200 only once the records are on the topic', async () => {
    const { p, topic } = await start('api-ack', 30_000);
    const t0 = Date.now();
    const res = await post(p, {
      changes: [
        { table: 'coupon', op: 'c', row: { id: 1, code: 'A' } },
        { table: 'coupon', op: 'c', row: { id: 2, code: 'B' } },
      ],
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { accepted: 2 });
    assert.equal(await onTopic(topic), 2, 'both records were on the topic when the answer came');
    assert.ok(Date.now() - t0 < 5000, 'the relay was woken, not left to its poll interval');
    await waitFor(
      async () => (await dst.pool.query('SELECT count(*)::int AS n FROM coupon WHERE id IN (1, 2)')).rows[0].n === 2,
      'applied',
    );
    // The consumer's partition is in /metrics, with nothing left to apply.
    await waitFor(
      async () =>
        new RegExp(`^sluice_consumer_lag\\{topic="${topic}",partition="0",pipeline="api-ack"\\} 0$`, 'm').test(
          await (await fetch(`${p.apiUrl}/metrics`)).text(),
        ),
      'consumer lag 0 in /metrics',
    );
  });

  test('no time to wait: 202, kept, and published later', async () => {
    const { p } = await start('api-noack', 0);
    const res = await post(p, { table: 'coupon', op: 'c', row: { id: 3, code: 'C' } });
    assert.equal(res.status, 202);
    const body = (await res.json()) as { accepted: number; published: boolean };
    assert.deepEqual([body.accepted, body.published], [1, false]);
    await waitFor(
      async () => (await dst.pool.query('SELECT count(*)::int AS n FROM coupon WHERE id = 3')).rows[0].n === 1,
      'the kept change applied',
    );
  });
});
