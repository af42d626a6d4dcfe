// KafkaProducer against a scripted driver: partitions are Java murmur2 over the topic's actual
// partition count; sends go one at a time, in call order; a failed send rejects, unsent, the sends
// queued behind it (nothing overtakes a failed batch; docs/guarantees.md: ordered-retries); errors
// are retriable SluiceErrors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSluiceError } from '../../src/core/errors.js';
import { KafkaProducer } from '../../src/transport/kafka/producer.js';
import { partitionFor } from '../../src/transport/kafka/murmur2.js';
import type { DriverAdmin, DriverKafka, DriverMessage, KafkaClientConfig, KafkaConstructor } from '../../src/transport/kafka/types.js';

function fakeDriver(script: { fail?: (call: number) => boolean; partitions?: number }) {
  const sent: { call: number; topic: string; messages: DriverMessage[] }[] = [];
  let calls = 0;
  let active = 0;
  let maxActive = 0;
  class FakeKafka implements DriverKafka {
    static readonly driverName = 'kafkajs' as const;
    static isRetriable = (err: unknown) => (err as Error).message.includes('broker down');
    constructor(_c: KafkaClientConfig) {}
    producer() {
      return {
        connect: async () => {},
        disconnect: async () => {},
        async sendBatch(topicMessages: { topic: string; messages: DriverMessage[] }[]) {
          const call = ++calls;
          active++;
          maxActive = Math.max(maxActive, active);
          await new Promise((r) => setTimeout(r, 2));
          active--;
          if (script.fail?.(call)) throw new Error('broker down');
          for (const t of topicMessages) sent.push({ call, ...t });
        },
      };
    }
    consumer(): never {
      throw new Error('not used');
    }
    admin(): DriverAdmin {
      return {
        connect: async () => {},
        disconnect: async () => {},
        listTopics: async () => ['t'],
        createTopics: async () => true,
        fetchTopicMetadata: async (topics) =>
          topics
            .filter((t) => t === 't')
            .map((name) => ({ name, partitions: Array.from({ length: script.partitions ?? 5 }, (_, i) => i) })),
        fetchTopicOffsets: async () => [],
        fetchOffsets: async () => [],
      };
    }
  }
  return { driver: FakeKafka as KafkaConstructor, sent, stats: () => ({ calls, maxActive }) };
}

const rec = (i: number) => ({ topic: 't', key: Buffer.from(`key-${i}`), value: Buffer.from(String(i)) });

test('each record goes to partitionFor(key, actual partition count)', async () => {
  const f = fakeDriver({ partitions: 7 });
  const p = new KafkaProducer({ driver: f.driver, brokers: ['x:1'] });
  await p.send(Array.from({ length: 100 }, (_, i) => rec(i)));
  const msgs = f.sent.flatMap((s) => s.messages);
  assert.equal(msgs.length, 100);
  for (const m of msgs) assert.equal(m.partition, partitionFor(m.key!, 7));
  await p.close();
});

test('sends run one at a time in call order; a failure rejects the queued sends unsent', async () => {
  const f = fakeDriver({ fail: (call) => call === 2 });
  const p = new KafkaProducer({ driver: f.driver, brokers: ['x:1'] });
  const results = await Promise.allSettled([0, 1, 2, 3].map((b) => p.send([rec(b)])));
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'rejected', 'rejected'],
  );
  for (const r of results.slice(1)) {
    const err = (r as PromiseRejectedResult).reason;
    assert.ok(isSluiceError(err) && err.retriable, 'retriable SluiceError');
  }
  assert.deepEqual(
    f.sent.map((s) => s.messages[0]!.value!.toString()),
    ['0'],
    'nothing after the failed send was sent',
  );
  assert.equal(f.stats().calls, 2, 'the sends queued behind the failure never reached the driver');
  assert.equal(f.stats().maxActive, 1);
  // Retried in order by the caller: they go through.
  for (const b of [1, 2, 3]) await p.send([rec(b)]);
  assert.deepEqual(
    f.sent.map((s) => s.messages[0]!.value!.toString()),
    ['0', '1', '2', '3'],
  );
  await p.close();
});

test('a missing topic is a non-retriable error', async () => {
  const f = fakeDriver({});
  const p = new KafkaProducer({ driver: f.driver, brokers: ['x:1'] });
  await assert.rejects(
    p.send([{ ...rec(1), topic: 'nope' }]),
    (err: unknown) => isSluiceError(err) && !err.retriable && /does not exist/.test(err.message),
  );
  await p.close();
});
