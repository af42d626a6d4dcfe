// The canonical key text the version guard and the dead-letter store key rows by: equal keys give
// equal text however an event spells them, different keys different text, and the lock order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TableSchema } from '../../src/core/table-schema.js';
import { compareIntegerText, keyOrder, keyTexter } from '../../src/apply/key-text.js';
import { ValueError } from '../../src/core/portable-values.js';

const table = (cols: TableSchema['columns'], pk: string[]): TableSchema => ({ name: 't', columns: cols, primaryKey: pk });

test('one spelling per key value', () => {
  const i64 = keyTexter(table([{ name: 'id', type: { kind: 'int64' }, nullable: false }], ['id']));
  assert.equal(i64({ id: 9223372036854775807n }), '9223372036854775807');
  assert.equal(i64({ id: '42' }), i64({ id: 42n }));
  assert.equal(i64({ id: 42 }), '42');
  const dec = keyTexter(table([{ name: 'd', type: { kind: 'decimal', precision: 10, scale: 2 }, nullable: false }], ['d']));
  assert.equal(dec({ d: '1.5' }), dec({ d: '001.50' }));
  const uuid = keyTexter(table([{ name: 'u', type: { kind: 'uuid' }, nullable: false }], ['u']));
  assert.equal(uuid({ u: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11' }), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
  const tz = keyTexter(table([{ name: 'at', type: { kind: 'timestamptz' }, nullable: false }], ['at']));
  assert.equal(tz({ at: '2024-01-01T01:00:00+01:00' }), tz({ at: '2024-01-01T00:00:00.000000Z' }));
  const bytes = keyTexter(table([{ name: 'b', type: { kind: 'bytes' }, nullable: false }], ['b']));
  assert.equal(bytes({ b: Buffer.from([0, 255]) }), '00ff');
});

test('composite keys are a JSON array of texts, so no two keys collide', () => {
  const k = keyTexter(
    table(
      [
        { name: 'a', type: { kind: 'string' }, nullable: false },
        { name: 'b', type: { kind: 'string' }, nullable: false },
      ],
      ['a', 'b'],
    ),
  );
  assert.equal(k({ a: 'x', b: 'y' }), '["x","y"]');
  assert.notEqual(k({ a: 'x","y', b: '' }), k({ a: 'x', b: 'y","' }));
  assert.notEqual(k({ a: 'ab', b: 'c' }), k({ a: 'a', b: 'bc' }));
});

test('a missing, null or mistyped key value is a ValueError naming the column', () => {
  const k = keyTexter(table([{ name: 'id', type: { kind: 'int32' }, nullable: false }], ['id']));
  assert.throws(
    () => k({}),
    (e) => e instanceof ValueError && /"id" is missing/.test(e.message),
  );
  assert.throws(
    () => k({ id: null }),
    (e) => e instanceof ValueError && /"id" is null/.test(e.message),
  );
  assert.throws(
    () => k({ id: 'x' }),
    (e) => e instanceof ValueError && /"id"/.test(e.message),
  );
});

test('integer keys lock in numeric order, others bytewise', () => {
  const xs = ['10', '-3', '9', '100', '-20', '0'];
  assert.deepEqual([...xs].sort(compareIntegerText), ['-20', '-3', '0', '9', '10', '100']);
  assert.equal(keyOrder(table([{ name: 'id', type: { kind: 'int64' }, nullable: false }], ['id'])), compareIntegerText);
  assert.deepEqual(['b', 'a', 'B'].sort(keyOrder(table([{ name: 's', type: { kind: 'string' }, nullable: false }], ['s']))), [
    'B',
    'a',
    'b',
  ]);
});
