// driver.ts: the missing optional driver is a config error naming its key; kafkajs requests are
// split so no partition's record batch exceeds the broker's message.max.bytes; error classification.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSluiceError } from '../../src/core/errors.js';
import { chunkByPartitionBytes, confluentDriver, loadKafkaDriver } from '../../src/transport/kafka/driver.js';
import type { DriverMessage } from '../../src/transport/kafka/types.js';

test('confluent driver not installed: SLUICE_ERR_CONFIG naming transport.kafka.driver', () => {
  const missing = () => {
    throw Object.assign(new Error("Cannot find module '@confluentinc/kafka-javascript'"), { code: 'MODULE_NOT_FOUND' });
  };
  assert.throws(
    () => confluentDriver(missing),
    (err: unknown) => isSluiceError(err, 'SLUICE_ERR_CONFIG') && err.context.configPath === 'transport.kafka.driver' && /transport\.kafka\.driver/.test(err.message),
  );
});

test('an unknown driver name is a config error', () => {
  assert.throws(() => loadKafkaDriver('rdkafka' as 'kafkajs'), (err: unknown) => isSluiceError(err, 'SLUICE_ERR_CONFIG'));
});

test('kafkajs errors: connection trouble and exhausted retries of it are retriable, the rest not', () => {
  const K = loadKafkaDriver('kafkajs');
  const named = (name: string, extra: object = {}) => Object.assign(new Error(name), { name, ...extra });
  assert.equal(K.isRetriable(named('KafkaJSConnectionError', { retriable: true })), true);
  assert.equal(K.isRetriable(named('KafkaJSNumberOfRetriesExceeded', { retriable: false, cause: named('KafkaJSConnectionError') })), true);
  assert.equal(K.isRetriable(named('KafkaJSProtocolError', { retriable: false, type: 'MESSAGE_TOO_LARGE' })), false);
  assert.equal(K.isRetriable(named('KafkaJSNonRetriableError', { retriable: false })), false);
  assert.equal(K.isRetriable(new TypeError('x')), false);
});

test('kafkajs requests are split at the per-partition byte limit, in order, losing nothing', () => {
  const msg = (partition: number, i: number, size: number): DriverMessage => ({ key: Buffer.from(`k${i}`), value: Buffer.alloc(size, i % 256), partition });
  const input = [
    { topic: 'a', messages: Array.from({ length: 300 }, (_, i) => msg(i % 3, i, 1000)) },
    { topic: 'b', messages: Array.from({ length: 50 }, (_, i) => msg(0, 1000 + i, 5000)) },
  ];
  const limit = 64 * 1024;
  const requests = chunkByPartitionBytes(input, limit);
  assert.ok(requests.length > 1);
  for (const req of requests) {
    const bytes = new Map<string, number>();
    for (const { topic, messages } of req) for (const m of messages) bytes.set(`${topic}/${m.partition}`, (bytes.get(`${topic}/${m.partition}`) ?? 0) + m.value!.length);
    for (const [tp, n] of bytes) assert.ok(n <= limit, `${tp}: ${n} bytes in one request`);
  }
  for (const topic of ['a', 'b']) {
    const flat = requests.flatMap((req) => req.filter((t) => t.topic === topic).flatMap((t) => t.messages));
    assert.deepEqual(flat, input.find((t) => t.topic === topic)!.messages, `${topic}: every message, in order`);
  }
  // A single record larger than the limit still goes, alone.
  assert.equal(chunkByPartitionBytes([{ topic: 'c', messages: [msg(0, 1, limit * 2)] }], limit).length, 1);
});
