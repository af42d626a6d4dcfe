// The codec's registry client and serde against a running Confluent-compatible registry. Written
// once, run against sluice's own registry and Apicurio (Style #11: one contract, every implementation).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryClient, type RegistryClientOptions } from '../../src/registry/client.js';
import { AvroSerde } from '../../src/codec/avro-serde.js';
import { tableAvroSchema, tableRecordName } from '../../src/codec/table-avro-schema.js';
import { subjectName } from '../../src/codec/subject-strategy.js';
import { isSluiceError } from '../../src/core/errors.js';
import type { TableSchema } from '../../src/core/table-schema.js';

const coupon: TableSchema = {
  schema: 'public',
  name: 'coupon',
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: { kind: 'int64' }, nullable: false },
    { name: 'code', type: { kind: 'string' }, nullable: false },
    { name: 'amount', type: { kind: 'decimal', precision: 38, scale: 10 }, nullable: false },
    { name: 'expires_at', type: { kind: 'timestamptz' }, nullable: true },
  ],
};
const history: TableSchema = {
  schema: 'public',
  name: 'coupon_history',
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: { kind: 'int64' }, nullable: false },
    { name: 'coupon_id', type: { kind: 'int64' }, nullable: false },
    { name: 'happened', type: { kind: 'date' }, nullable: false },
  ],
};
const couponV2: TableSchema = { ...coupon, columns: [...coupon.columns, { name: 'owner', type: { kind: 'uuid' }, nullable: true }] };
const couponBroken: TableSchema = {
  ...coupon,
  columns: [...coupon.columns, { name: 'required', type: { kind: 'int32' }, nullable: false }],
};

export function registryClientContract(
  name: string,
  options: () => RegistryClientOptions,
  opts: { setsCompatibility?: boolean } = {},
): void {
  const topic = `domain-${name.toLowerCase().replace(/\W/g, '')}-${Date.now()}`;
  const subj = (t: TableSchema) => subjectName('TopicRecordNameStrategy', topic, tableRecordName(t));

  test(`${name}: two tables share one topic under TopicRecordNameStrategy and round-trip through fresh clients`, async () => {
    const producer = new AvroSerde(new RegistryClient(options()));
    const a = await producer.serialize(subj(coupon), tableAvroSchema(coupon), {
      id: 1n,
      code: 'SPRING',
      amount: '12345678901234567890.0123456789',
      expires_at: '2030-01-01T00:00:00.000001Z',
    });
    const b = await producer.serialize(subj(history), tableAvroSchema(history), { id: 7n, coupon_id: 1n, happened: '2024-02-29' });
    assert.notEqual(a.readInt32BE(1), b.readInt32BE(1));
    const consumer = new AvroSerde(new RegistryClient(options()));
    const [ra, rb] = (await consumer.deserializeBatch([a, b])) as Array<Record<string, unknown>>;
    assert.deepEqual(
      { ...ra },
      { id: 1n, code: 'SPRING', amount: '12345678901234567890.0123456789', expires_at: '2030-01-01T00:00:00.000001Z' },
    );
    assert.deepEqual({ ...rb }, { id: 7n, coupon_id: 1n, happened: '2024-02-29' });
    const client = new RegistryClient(options());
    const subjects = await client.listSubjects();
    assert.ok(subjects.includes(subj(coupon)) && subjects.includes(subj(history)), `subjects ${subjects.join(',')}`);
  });

  test(`${name}: the same schema gets the same id; fetch by id returns a schema that parses to the same record`, async () => {
    const c = new RegistryClient(options());
    const text = JSON.stringify(tableAvroSchema(coupon));
    const id1 = await c.register(subj(coupon), text);
    const id2 = await new RegistryClient(options()).register(subj(coupon), text);
    assert.equal(id1, id2);
    const fetched = JSON.parse(await new RegistryClient(options()).getSchemaById(id1)) as { name: string; fields: unknown[] };
    assert.equal(fetched.name.split('.').pop(), 'coupon');
    assert.equal(fetched.fields.length, coupon.columns.length);
    const found = await c.lookup(subj(coupon), text);
    assert.equal(found?.id, id1);
    assert.equal(await c.lookup(subj(coupon), JSON.stringify(tableAvroSchema(couponV2))), undefined);
  });

  test(`${name}: a v2 schema (added nullable column) reads v1 data and v1 reads v2 data`, async () => {
    const serde = new AvroSerde(new RegistryClient(options()));
    const v1msg = await serde.serialize(subj(coupon), tableAvroSchema(coupon), { id: 2n, code: 'X', amount: '1.5', expires_at: null });
    const v2msg = await serde.serialize(subj(coupon), tableAvroSchema(couponV2), {
      id: 3n,
      code: 'Y',
      amount: '2',
      expires_at: null,
      owner: '123e4567-e89b-12d3-a456-426614174000',
    });
    assert.notEqual(v1msg.readInt32BE(1), v2msg.readInt32BE(1));
    const reader = new AvroSerde(new RegistryClient(options()));
    assert.deepEqual(
      { ...((await reader.deserialize(v1msg, tableAvroSchema(couponV2))) as object) },
      { id: 2n, code: 'X', amount: '1.5000000000', expires_at: null, owner: null },
    );
    assert.deepEqual(
      { ...((await reader.deserialize(v2msg, tableAvroSchema(coupon))) as object) },
      { id: 3n, code: 'Y', amount: '2.0000000000', expires_at: null },
    );
    const versions = await new RegistryClient(options()).listVersions(subj(coupon));
    assert.ok(versions.length >= 2);
  });

  if (opts.setsCompatibility !== false) {
    test(`${name}: an incompatible change is reported by the compatibility check and refused on registration`, async () => {
      const c = new RegistryClient(options());
      await c.setCompatibility('BACKWARD', subj(coupon));
      const broken = JSON.stringify(tableAvroSchema(couponBroken));
      const verdict = await c.testCompatibility(subj(coupon), broken);
      assert.equal(verdict.compatible, false);
      assert.equal((await c.testCompatibility(subj(coupon), JSON.stringify(tableAvroSchema(couponV2)))).compatible, true);
      await assert.rejects(c.register(subj(coupon), broken), (e) => isSluiceError(e, 'SLUICE_ERR_REGISTRY') && e.context.status === 409);
    });
  }

  test(`${name}: an unknown id is a clear codec error`, async () => {
    const serde = new AvroSerde(new RegistryClient(options()));
    await assert.rejects(serde.deserialize(Buffer.from([0, 0x7f, 0, 0, 1, 2])), (e) => isSluiceError(e, 'SLUICE_ERR_CODEC_UNKNOWN_ID'));
  });
}
