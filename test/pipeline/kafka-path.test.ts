import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Publisher, runPublisher } from '../../src/pipeline/kafka-path.js';
import { PipelineStats } from '../../src/pipeline/stats.js';
import { AvroSerde } from '../../src/codec/avro-serde.js';
import { SluiceError } from '../../src/core/errors.js';
import type { ChangeBatch, Source } from '../../src/core/contracts.js';
import type { ChangeEvent } from '../../src/core/change-event.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import type { KafkaProducer, ProduceRecord } from '../../src/transport/kafka/index.js';
import { MemoryRegistry } from '../codec/memory-registry.js';

const table: TableSchema = {
  schema: 'public',
  name: 'coupon',
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: { kind: 'int64' }, nullable: false },
    { name: 'n', type: { kind: 'int32' }, nullable: false },
  ],
};
const ev = (id: number, v: number): ChangeEvent => ({
  table: { schema: 'public', name: 'coupon' },
  op: 'u',
  key: { id: BigInt(id) },
  after: { id: BigInt(id), n: v },
  source: { connector: 's', position: String(v) },
  version: BigInt(v),
});

class FakeSource implements Source {
  readonly name = 'fake';
  acked: string[] = [];
  constructor(private readonly batches: ChangeBatch[]) {}
  async tables() {
    return [table];
  }
  async *start() {
    for (const b of this.batches) yield b;
  }
  async acknowledge(p: string) {
    this.acked.push(p);
  }
  async stop() {}
}

test('a batch is acknowledged only after the broker took all of it; a retriable failure resends the batch in order', async () => {
  const sent: ProduceRecord[][] = [];
  let failures = 2;
  const producer = {
    async send(records: ProduceRecord[]) {
      if (failures-- > 0) throw new SluiceError('SLUICE_ERR_TRANSPORT', 'broker unavailable', { retriable: true });
      sent.push(records);
    },
  } as unknown as KafkaProducer;
  const publisher = new Publisher(producer, {
    serde: new AvroSerde(new MemoryRegistry()),
    tables: [{ table, topic: 'retail' }],
    subjectStrategy: 'TopicRecordNameStrategy',
    keyEncoding: 'auto',
    namespace: 'sluice',
  });
  await publisher.prepare();
  const source = new FakeSource([
    { events: [ev(1, 1), ev(2, 2)], position: '2' },
    { events: [ev(1, 3)], position: '3' },
  ]);
  const retries: unknown[] = [];
  await runPublisher(source, publisher, new PipelineStats(), { onRetry: (e) => retries.push(e) });
  assert.equal(retries.length, 2);
  assert.deepEqual(source.acked, ['2', '3']);
  assert.deepEqual(
    sent.map((b) => b.map((r) => r.key.readBigInt64BE())),
    [[1n, 2n], [1n]],
  );
  assert.ok(sent.every((b) => b.every((r) => r.topic === 'retail' && r.value![0] === 0)));
});

test('a non-retriable send failure stops the publisher without acknowledging the batch', async () => {
  const producer = {
    async send() {
      throw new SluiceError('SLUICE_ERR_TRANSPORT', 'topic authorization failed');
    },
  } as unknown as KafkaProducer;
  const publisher = new Publisher(producer, {
    serde: new AvroSerde(new MemoryRegistry()),
    tables: [{ table, topic: 'retail' }],
    subjectStrategy: 'TopicRecordNameStrategy',
    keyEncoding: 'auto',
    namespace: 'sluice',
  });
  await publisher.prepare();
  const source = new FakeSource([{ events: [ev(1, 1)], position: '1' }]);
  await assert.rejects(runPublisher(source, publisher, new PipelineStats()), /authorization/);
  assert.deepEqual(source.acked, []);
});

test('stopped while the broker refuses every send: the publisher returns at once, nothing acknowledged', async () => {
  const stop = new AbortController();
  let attempts = 0;
  const producer = {
    async send() {
      if (++attempts === 3) stop.abort();
      throw new SluiceError('SLUICE_ERR_TRANSPORT', 'broker unavailable', { retriable: true });
    },
  } as unknown as KafkaProducer;
  const publisher = new Publisher(producer, {
    serde: new AvroSerde(new MemoryRegistry()),
    tables: [{ table, topic: 'retail' }],
    subjectStrategy: 'TopicRecordNameStrategy',
    keyEncoding: 'auto',
    namespace: 'sluice',
  });
  await publisher.prepare();
  const source = new FakeSource([{ events: [ev(1, 1)], position: '1' }]);
  await runPublisher(source, publisher, new PipelineStats(), { signal: stop.signal });
  assert.equal(attempts, 3);
  assert.deepEqual(source.acked, []);
});
