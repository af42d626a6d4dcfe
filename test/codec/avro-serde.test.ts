import { test } from 'node:test';
import assert from 'node:assert/strict';
import avro from 'avsc';
import { AvroSerde, avroType } from '../../src/codec/avro-serde.js';
import { tableAvroSchema } from '../../src/codec/table-avro-schema.js';
import { isSluiceError } from '../../src/core/errors.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { MemoryRegistry } from './memory-registry.js';

const table: TableSchema = {
  schema: 'public',
  name: 'coupon',
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: { kind: 'int64' }, nullable: false },
    { name: 'amount', type: { kind: 'decimal', precision: 12, scale: 2 }, nullable: false },
    { name: 'note', type: { kind: 'string' }, nullable: true },
    { name: 'at', type: { kind: 'timestamptz' }, nullable: true },
  ],
};
const row = { id: 9007199254740993n, amount: '-12.50', note: 'ça va', at: '2024-01-02T03:04:05.123456Z' };

test('serialize frames the Avro body with magic byte 0 and the registered id', async () => {
  const reg = new MemoryRegistry();
  const serde = new AvroSerde(reg);
  const schema = tableAvroSchema(table);
  const buf = await serde.serialize('coupons-sluice.public.coupon', schema, row);
  assert.equal(buf[0], 0);
  const id = buf.readInt32BE(1);
  assert.equal(reg.schemas.has(id), true);
  // the body is plain Avro: avsc alone reads it
  assert.deepEqual({ ...(avroType(schema).fromBuffer(buf.subarray(5)) as object) }, row);
  assert.deepEqual({ ...((await serde.deserialize(buf)) as object) }, row);
});

test('a warm writer does no registry call and a second serde reads by id once', async () => {
  const reg = new MemoryRegistry();
  const w = await new AvroSerde(reg).writer('s', tableAvroSchema(table));
  const bufs = Array.from({ length: 50 }, (_, i) => w.encode({ ...row, id: BigInt(i) }));
  const reader = new AvroSerde(reg);
  const out = (await reader.deserializeBatch(bufs)) as Array<{ id: bigint }>;
  assert.deepEqual(
    out.map((r) => r.id),
    Array.from({ length: 50 }, (_, i) => BigInt(i)),
  );
  assert.equal(reg.getCalls, 1);
});

test('records resolve to the reader schema by Avro rules: added field with default, removed field, int→long', async () => {
  const reg = new MemoryRegistry();
  const serde = new AvroSerde(reg);
  const v1 = {
    type: 'record',
    name: 'R',
    namespace: 'a',
    fields: [
      { name: 'n', type: 'int' },
      { name: 'gone', type: 'string' },
    ],
  };
  const v2 = {
    type: 'record',
    name: 'R',
    namespace: 'a',
    fields: [
      { name: 'n', type: 'long' },
      { name: 'added', type: 'string', default: 'x' },
    ],
  };
  const buf = await serde.serialize('s', v1, { n: 7, gone: 'bye' });
  assert.deepEqual({ ...((await serde.deserialize(buf, v2)) as object) }, { n: 7n, added: 'x' });
});

test('a writer in another namespace is read by unqualified name, as the specification says', async () => {
  const reg = new MemoryRegistry();
  const serde = new AvroSerde(reg);
  const javaSide = {
    type: 'record',
    name: 'Coupon',
    namespace: 'com.retail.db',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } },
    ],
  };
  const ours = {
    type: 'record',
    name: 'Coupon',
    namespace: 'sluice.public',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B', 'C'] } },
    ],
  };
  const buf = await serde.serialize('s', javaSide, { id: 5n, kind: 'B' });
  // avsc alone refuses this pair: the check is not vacuous
  assert.throws(() => avroType(ours).createResolver(avroType(javaSide)));
  assert.deepEqual({ ...((await serde.deserialize(buf, ours)) as object) }, { id: 5n, kind: 'B' });
});

test('an unresolvable reader gives a schema error naming the id', async () => {
  const serde = new AvroSerde(new MemoryRegistry());
  const buf = await serde.serialize('s', { type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] }, { a: 'x' });
  await assert.rejects(
    serde.deserialize(buf, { type: 'record', name: 'R', fields: [{ name: 'b', type: 'int' }] }),
    (e) => isSluiceError(e, 'SLUICE_ERR_SCHEMA_INCOMPATIBLE') && /schema id 100/.test(e.message),
  );
});

test('an unknown schema id is a clear error', async () => {
  const serde = new AvroSerde(new MemoryRegistry());
  await assert.rejects(
    serde.deserialize(Buffer.from([0, 0, 0, 0x30, 0x39, 2])),
    (e) => isSluiceError(e, 'SLUICE_ERR_CODEC_UNKNOWN_ID') && /12345/.test(e.message),
  );
});

test('unknown magic byte is refused before any lookup', async () => {
  const reg = new MemoryRegistry();
  await assert.rejects(new AvroSerde(reg).deserialize(Buffer.from([7, 0, 0, 0, 1, 2])), (e) => isSluiceError(e, 'SLUICE_ERR_CODEC_MAGIC'));
  assert.equal(reg.getCalls, 0);
});

test('a value that does not fit names the field', async () => {
  const serde = new AvroSerde(new MemoryRegistry());
  const schema = tableAvroSchema(table);
  await assert.rejects(
    serde.serialize('s', schema, { ...row, amount: '12.345' }),
    (e) => isSluiceError(e, 'SLUICE_ERR_CODEC_VALUE') && e.context.field === 'amount' && /field "amount".*decimal\(12,2\)/.test(e.message),
  );
  await assert.rejects(
    serde.serialize('s', schema, { ...row, id: 'seven' }),
    (e) => isSluiceError(e, 'SLUICE_ERR_CODEC_VALUE') && e.context.field === 'id',
  );
  await assert.rejects(
    serde.serialize('s', schema, { ...row, at: '2024-01-02 03:04:05' }),
    (e) => isSluiceError(e, 'SLUICE_ERR_CODEC_VALUE') && e.context.field === 'at',
  );
});

test('truncated and over-long messages are refused', async () => {
  const serde = new AvroSerde(new MemoryRegistry());
  const buf = await serde.serialize('s', tableAvroSchema(table), row);
  await assert.rejects(serde.deserialize(buf.subarray(0, buf.length - 3)));
  await assert.rejects(
    serde.deserialize(Buffer.concat([buf, Buffer.from([1])])),
    (e) => isSluiceError(e, 'SLUICE_ERR_CODEC_VALUE') && /trailing/.test(e.message),
  );
});

test('with auto-registration off an unregistered schema is an error, a registered one is found', async () => {
  const reg = new MemoryRegistry();
  const schema = tableAvroSchema(table);
  const serde = new AvroSerde(reg, { autoRegister: false });
  await assert.rejects(
    serde.serialize('s', schema, row),
    (e) => isSluiceError(e, 'SLUICE_ERR_CODEC_UNKNOWN_ID') && /not registered under subject "s"/.test(e.message),
  );
  await new AvroSerde(reg).serialize('s', schema, row);
  const buf = await serde.serialize('s', schema, row);
  assert.equal(buf.readInt32BE(1), 100);
});

test('records larger than the scratch buffer encode whole', async () => {
  const serde = new AvroSerde(new MemoryRegistry());
  const big = 'x'.repeat(200_000);
  const buf = await serde.serialize('s', { type: 'record', name: 'B', fields: [{ name: 's', type: 'string' }] }, { s: big });
  assert.equal(((await serde.deserialize(buf)) as { s: string }).s, big);
  assert.ok(avro.Type.isType(avroType('string')));
});

test('a batch with several record types in one topic is decoded by record name, each to its reader', async () => {
  const reg = new MemoryRegistry();
  const serde = new AvroSerde(reg);
  const coupon = { type: 'record', name: 'coupon', namespace: 'sluice.public', fields: [{ name: 'id', type: 'long' }] };
  const history = {
    type: 'record',
    name: 'coupon_history',
    namespace: 'sluice.public',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'note', type: 'string' },
    ],
  };
  const historyV2 = { ...history, fields: [...history.fields, { name: 'extra', type: ['null', 'int'], default: null }] };
  const bufs = [await serde.serialize('t-coupon', coupon, { id: 1n }), await serde.serialize('t-history', history, { id: 2n, note: 'x' })];
  const readers = new Map([
    [avroType(coupon).name!, avroType(coupon)],
    [avroType(historyV2).name!, avroType(historyV2)],
  ]);
  const out = await new AvroSerde(reg).deserializeBatchByRecord(bufs, readers);
  assert.deepEqual(
    out.map((o) => o.name),
    ['sluice.public.coupon', 'sluice.public.coupon_history'],
  );
  assert.deepEqual({ ...(out[1]!.value as object) }, { id: 2n, note: 'x', extra: null });
  const other = await serde.serialize('t-x', { type: 'record', name: 'voucher', fields: [{ name: 'id', type: 'long' }] }, { id: 3n });
  await assert.rejects(
    new AvroSerde(reg).deserializeBatchByRecord([other], readers),
    (e) => isSluiceError(e, 'SLUICE_ERR_SCHEMA_INCOMPATIBLE') && /"voucher" record/.test(e.message),
  );
});
