import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coerceRow, coerceValue, rowToJson, type FieldProblem } from '../../src/capture/row-values.js';
import type { Column, TableSchema } from '../../src/core/table-schema.js';

const col = (type: Column['type'], nullable = false): Column => ({ name: 'c', type, nullable });
const ok = (c: Column, v: unknown) => {
  const r = coerceValue(c, v);
  assert.ok('value' in r, `expected ${JSON.stringify(String(v))} to be accepted: ${'problem' in r ? r.problem : ''}`);
  return r.value;
};
const bad = (c: Column, v: unknown) => assert.ok('problem' in coerceValue(c, v), `expected ${String(v)} to be refused`);

test('integers keep their range; int64 beyond 2^53 only as bigint or digit string', () => {
  assert.equal(ok(col({ kind: 'int64' }), '9223372036854775807'), 9223372036854775807n);
  assert.equal(ok(col({ kind: 'int64' }), 42), 42n);
  bad(col({ kind: 'int64' }), 2 ** 60); // not a safe integer: would have lost precision already
  bad(col({ kind: 'int64' }), '9223372036854775808');
  assert.equal(ok(col({ kind: 'int16' }), -32768), -32768);
  bad(col({ kind: 'int16' }), 32768);
  bad(col({ kind: 'int32' }), 1.5);
});

test('decimals are exact text within precision and scale', () => {
  const d = col({ kind: 'decimal', precision: 38, scale: 10 });
  assert.equal(ok(d, '1234567890123456789012345678.0123456789'), '1234567890123456789012345678.0123456789');
  assert.equal(ok(d, 12.5), '12.5');
  bad(d, '0.00000000001');
  bad(col({ kind: 'decimal', precision: 4, scale: 2 }), '123.4');
  bad(d, '1e5');
});

test('timestamps normalise to microsecond text; a zone is required exactly for timestamptz', () => {
  assert.equal(ok(col({ kind: 'timestamptz' }), '2024-03-01 10:00:00.123456+02'), '2024-03-01T08:00:00.123456Z');
  assert.equal(ok(col({ kind: 'timestamptz' }), new Date('2024-03-01T10:00:00.5Z')), '2024-03-01T10:00:00.500000Z');
  bad(col({ kind: 'timestamptz' }), '2024-03-01 10:00:00');
  assert.equal(ok(col({ kind: 'timestamp' }), '2024-03-01 10:00:00'), '2024-03-01T10:00:00');
  bad(col({ kind: 'timestamp' }), '2024-03-01T10:00:00+01:00');
  bad(col({ kind: 'date' }), '2023-02-29');
});

test('NULL only where the column allows it; json, bytes, uuid', () => {
  bad(col({ kind: 'string' }), null);
  assert.equal(ok(col({ kind: 'string' }, true), null), null);
  assert.equal(ok(col({ kind: 'string' }), ''), '', 'empty string is not NULL');
  assert.equal(ok(col({ kind: 'json' }), { a: [1, 'ü'] }), '{"a":[1,"ü"]}');
  bad(col({ kind: 'json' }), '{not json');
  assert.deepEqual(ok(col({ kind: 'bytes' }), 'AAEC'), Buffer.from([0, 1, 2]));
  bad(col({ kind: 'bytes' }), 'not base64!');
  bad(col({ kind: 'uuid' }), '1234');
});

test('a row image names every problem by field, and is refused whole', () => {
  const t: TableSchema = {
    name: 'coupon',
    primaryKey: ['id'],
    columns: [
      { name: 'id', type: { kind: 'int64' }, nullable: false },
      { name: 'amount', type: { kind: 'decimal', precision: 10, scale: 2 }, nullable: false },
      { name: 'note', type: { kind: 'string' }, nullable: true },
    ],
  };
  const problems: FieldProblem[] = [];
  assert.equal(coerceRow(t, { id: 'x', amount: '1.234', extra: 1 }, 'changes[2].row', problems), undefined);
  assert.deepEqual(problems.map((p) => p.field).sort(), [
    'changes[2].row.amount',
    'changes[2].row.extra',
    'changes[2].row.id',
    'changes[2].row.note',
  ]);
  const fine: FieldProblem[] = [];
  assert.deepEqual(coerceRow(t, { id: 1, amount: '2', note: null }, 'row', fine), { id: 1n, amount: '2', note: null });
  assert.deepEqual(fine, []);
});

test('rowToJson keeps bigint and bytes exact for the outbox', () => {
  assert.equal(
    rowToJson({ a: 9007199254740993n, b: Buffer.from([255]), c: null, d: 'x' }),
    '{"a":"9007199254740993","b":"/w==","c":null,"d":"x"}',
  );
});
