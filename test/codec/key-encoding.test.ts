import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyEncoder } from '../../src/codec/key-encoding.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { isSluiceError } from '../../src/core/errors.js';

const t = (pk: string[], kinds: Record<string, TableSchema['columns'][number]['type']>): TableSchema => ({
  name: 't',
  primaryKey: pk,
  columns: Object.entries(kinds).map(([name, type]) => ({ name, type, nullable: false })),
});

test("single-column keys are written as Java's serializers write them", () => {
  assert.deepEqual([...keyEncoder(t(['id'], { id: { kind: 'int64' } }))({ id: 258n })], [0, 0, 0, 0, 0, 0, 1, 2]);
  assert.deepEqual([...keyEncoder(t(['id'], { id: { kind: 'int64' } }))({ id: -1n })], [255, 255, 255, 255, 255, 255, 255, 255]);
  assert.deepEqual([...keyEncoder(t(['id'], { id: { kind: 'int32' } }))({ id: 258 })], [0, 0, 1, 2]);
  assert.equal(keyEncoder(t(['code'], { code: { kind: 'string' } }))({ code: 'ÉTÉ-10' }).toString('utf8'), 'ÉTÉ-10');
});

test('composite keys are a JSON array in key order, independent of row property order', () => {
  const enc = keyEncoder(t(['b', 'a'], { a: { kind: 'int64' }, b: { kind: 'string' } }));
  assert.equal(enc({ a: 9007199254740993n, b: 'x' }).toString(), '["x","9007199254740993"]');
  assert.equal(enc({ b: 'x', a: 9007199254740993n }).toString(), '["x","9007199254740993"]');
});

test('a missing key column is an error naming it', () => {
  assert.throws(
    () => keyEncoder(t(['id'], { id: { kind: 'int64' } }))({}),
    (e) => isSluiceError(e, 'SLUICE_ERR_CODEC_VALUE') && /"id"/.test(e.message),
  );
});

// docs/guarantees.md: partition-by-key-bytes
test("a change of the value's schema (a column added, another retyped) leaves every key's bytes as they were", () => {
  const v1 = t(['id'], { id: { kind: 'int64' }, name: { kind: 'string' } });
  const v2 = t(['id'], { id: { kind: 'int64' }, name: { kind: 'json' }, note: { kind: 'string' } });
  for (const id of [0n, 1n, -7n, 9007199254740993n]) assert.deepEqual(keyEncoder(v2)({ id }), keyEncoder(v1)({ id }));
  const c1 = t(['b', 'a'], { a: { kind: 'int64' }, b: { kind: 'string' }, x: { kind: 'int32' } });
  const c2 = t(['b', 'a'], { x: { kind: 'int64' }, a: { kind: 'int64' }, b: { kind: 'string' }, y: { kind: 'boolean' } });
  assert.deepEqual(keyEncoder(c2)({ a: 3n, b: 'k' }), keyEncoder(c1)({ a: 3n, b: 'k' }));
});
