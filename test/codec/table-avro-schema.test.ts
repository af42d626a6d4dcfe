import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tableAvroSchema, tableRecordName } from '../../src/codec/table-avro-schema.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { isSluiceError } from '../../src/core/errors.js';

const coupon: TableSchema = {
  schema: 'public',
  name: 'coupon',
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: { kind: 'int64' }, nullable: false },
    { name: 'code', type: { kind: 'string' }, nullable: false },
    { name: 'amount', type: { kind: 'decimal', precision: 12, scale: 2 }, nullable: false },
    { name: 'valid_from', type: { kind: 'date' }, nullable: true },
    { name: 'starts_at', type: { kind: 'time' }, nullable: true },
    { name: 'created_at', type: { kind: 'timestamp' }, nullable: false },
    { name: 'redeemed_at', type: { kind: 'timestamptz' }, nullable: true },
    { name: 'owner', type: { kind: 'uuid' }, nullable: true },
    { name: 'meta', type: { kind: 'json' }, nullable: true },
    { name: 'active', type: { kind: 'boolean' }, nullable: false },
    { name: 'ratio', type: { kind: 'float64' }, nullable: true },
    { name: 'img', type: { kind: 'bytes' }, nullable: true },
    { name: 'qty', type: { kind: 'int16' }, nullable: true },
  ],
};

test('the same table gives byte-identical schema JSON', () => {
  const a = JSON.stringify(tableAvroSchema(coupon));
  const copy: TableSchema = JSON.parse(JSON.stringify(coupon));
  assert.equal(JSON.stringify(tableAvroSchema(copy)), a);
  assert.equal(tableRecordName(coupon), 'sluice.public.coupon');
});

test('column types map to Avro types and logical types; nullable columns are ["null", T] with default null', () => {
  const s = tableAvroSchema(coupon, { namespace: 'retail' }) as {
    namespace: string;
    fields: Array<{ name: string; type: unknown; default?: unknown }>;
  };
  assert.equal(s.namespace, 'retail.public');
  const byName = Object.fromEntries(s.fields.map((f) => [f.name, f]));
  assert.deepEqual(byName.id, { name: 'id', type: 'long' });
  assert.deepEqual(byName.amount!.type, { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 });
  assert.deepEqual(byName.valid_from, { name: 'valid_from', type: ['null', { type: 'int', logicalType: 'date' }], default: null });
  assert.deepEqual(byName.starts_at!.type, ['null', { type: 'long', logicalType: 'time-micros' }]);
  assert.deepEqual(byName.created_at!.type, { type: 'long', logicalType: 'local-timestamp-micros' });
  assert.deepEqual(byName.redeemed_at!.type, ['null', { type: 'long', logicalType: 'timestamp-micros' }]);
  assert.deepEqual(byName.owner!.type, ['null', { type: 'string', logicalType: 'uuid' }]);
  assert.deepEqual(byName.qty!.type, ['null', 'int']);
});

test("names outside Avro's alphabet are rewritten and the original kept", () => {
  const t: TableSchema = {
    name: 'order-items',
    primaryKey: ['1st col'],
    columns: [{ name: '1st col', type: { kind: 'int32' }, nullable: false }],
  };
  const s = tableAvroSchema(t) as Record<string, unknown> & { fields: Array<Record<string, unknown>> };
  assert.equal(s.name, 'order_items');
  assert.equal(s['sluice.table'], 'order-items');
  assert.deepEqual(s.fields[0], { name: '_1st_col', type: 'int', 'sluice.column': '1st col' });
});

test('two columns that map to one Avro name are refused, naming both and the table', () => {
  const t: TableSchema = {
    name: 't',
    primaryKey: ['a-b'],
    columns: [
      { name: 'a-b', type: { kind: 'int32' }, nullable: false },
      { name: 'a_b', type: { kind: 'int32' }, nullable: false },
    ],
  };
  assert.throws(
    () => tableAvroSchema(t),
    (e) => isSluiceError(e, 'SLUICE_ERR_SCHEMA_INVALID') && /"a-b" and "a_b" of table t/.test(e.message),
  );
});
