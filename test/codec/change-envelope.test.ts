import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envelopeSchema, fromEnvelope, toEnvelope } from '../../src/codec/change-envelope.js';
import { avroType } from '../../src/codec/avro-serde.js';
import type { ChangeEvent } from '../../src/core/change-event.js';
import type { TableSchema } from '../../src/core/table-schema.js';

const table: TableSchema = {
  schema: 'public',
  name: 'coupon_history',
  primaryKey: ['coupon_id', 'seq'],
  columns: [
    { name: 'coupon_id', type: { kind: 'int64' }, nullable: false },
    { name: 'seq', type: { kind: 'int32' }, nullable: false },
    { name: 'note', type: { kind: 'string' }, nullable: true },
    { name: 'price', type: { kind: 'decimal', precision: 38, scale: 10 }, nullable: true },
    { name: 'weird name', type: { kind: 'timestamptz' }, nullable: true },
  ],
};

test('an update and a delete round-trip through the Avro envelope', () => {
  const type = avroType(envelopeSchema(table));
  assert.equal(type.name, 'sluice.public.coupon_history');
  const upd: ChangeEvent = {
    table: { schema: 'public', name: 'coupon_history' },
    op: 'u',
    version: 123456789012345678n,
    key: { coupon_id: 5n, seq: 2 },
    after: { coupon_id: 5n, seq: 2, note: null, price: '1.2500000000', 'weird name': '2024-01-01T00:00:00.000001Z' },
    source: { connector: 'outbox', position: '42', txId: '777', commitTs: '2024-01-01T00:00:00.000002Z', context: 'redeemCoupon' },
  };
  assert.deepEqual(fromEnvelope(table, type.fromBuffer(type.toBuffer(toEnvelope(table, upd)))), upd);
  const del: ChangeEvent = {
    table: upd.table,
    op: 'd',
    version: 9n,
    key: { coupon_id: 5n, seq: 2 },
    source: { connector: 'outbox', position: '43' },
  };
  assert.deepEqual(fromEnvelope(table, type.fromBuffer(type.toBuffer(toEnvelope(table, del)))), del);
});

test('key fields are never nullable in the envelope', () => {
  const t: TableSchema = { ...table, columns: table.columns.map((c) => (c.name === 'seq' ? { ...c, nullable: true } : c)) };
  const s = envelopeSchema(t) as { fields: Array<{ name: string; type: { fields?: Array<{ name: string; type: unknown }> } }> };
  const key = s.fields.find((f) => f.name === 'key')!.type.fields!;
  assert.deepEqual(
    key.map((f) => f.type),
    ['long', 'int'],
  );
});
