// The registry page's diff between two versions of a subject: fields added, removed, retyped or
// given another default (nested records by path), and a line diff that keeps every line of both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineDiff, schemaDiff } from '../../src/observe/schema-diff.js';

const v1 = {
  type: 'record',
  name: 'coupon',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'code', type: 'string' },
    { name: 'discount', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'shop', type: { type: 'record', name: 'shop', fields: [{ name: 'city', type: 'string' }] } },
  ],
};
const v2 = {
  type: 'record',
  name: 'coupon',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'discount', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    { name: 'note', type: ['null', 'string'], default: 'n/a' },
    {
      name: 'shop',
      type: {
        type: 'record',
        name: 'shop',
        fields: [
          { name: 'city', type: 'string' },
          { name: 'zip', type: ['null', 'string'], default: null },
        ],
      },
    },
    { name: 'valid_until', type: ['null', { type: 'long', logicalType: 'timestamp-micros' }], default: null },
  ],
};

test('fields added, removed, retyped and with another default, nested ones by path', () => {
  const d = schemaDiff(JSON.stringify(v1), JSON.stringify(v2));
  assert.equal(d.parsed, true);
  assert.deepEqual(d.fields, [
    { field: 'code', change: 'removed', from: 'string' },
    { field: 'discount', change: 'type', from: 'bytes (decimal 10,2)', to: 'bytes (decimal 12,2)' },
    { field: 'note', change: 'default', from: 'null', to: '"n/a"' },
    { field: 'shop.zip', change: 'added', to: 'null | string' },
    { field: 'valid_until', change: 'added', to: 'null | long (timestamp-micros)' },
  ]);
});

test('the line diff holds every line of both versions, in order, each marked once', () => {
  const d = schemaDiff(JSON.stringify(v1), JSON.stringify(v2));
  const before = JSON.stringify(v1, null, 2).split('\n');
  const after = JSON.stringify(v2, null, 2).split('\n');
  assert.deepEqual(
    d.lines.filter((l) => l.op !== '+').map((l) => l.text),
    before,
  );
  assert.deepEqual(
    d.lines.filter((l) => l.op !== '-').map((l) => l.text),
    after,
  );
  assert.ok(d.lines.some((l) => l.op === '-' && l.text.includes('"code"')));
  assert.ok(d.lines.some((l) => l.op === '+' && l.text.includes('"valid_until"')));
});

test('the line diff is minimal: one changed line among equal ones is one removal and one addition', () => {
  assert.deepEqual(lineDiff(['a', 'b', 'c', 'd'], ['a', 'B', 'c', 'd']), [
    { op: ' ', text: 'a' },
    { op: '-', text: 'b' },
    { op: '+', text: 'B' },
    { op: ' ', text: 'c' },
    { op: ' ', text: 'd' },
  ]);
  assert.deepEqual(lineDiff(['x', 'y'], ['x', 'y']), [
    { op: ' ', text: 'x' },
    { op: ' ', text: 'y' },
  ]);
  assert.deepEqual(lineDiff([], ['n']), [{ op: '+', text: 'n' }]);
});

test('a schema that is not JSON: no field list, the lines still compared', () => {
  const d = schemaDiff('syntax = "proto3";', 'syntax = "proto3";\nmessage M {}');
  assert.equal(d.parsed, false);
  assert.deepEqual(d.fields, []);
  assert.deepEqual(
    d.lines.map((l) => l.op),
    [' ', '+'],
  );
});
