/** The scan that finds JSON number literals JSON.parse would round, by path (docs/guarantees.md:
 * lossless-values). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRounded, roundedNumberPaths } from '../../../src/capture/api/json-numbers.js';

test('a literal is rounded exactly when its double differs from it', () => {
  for (const s of [
    '0.1',
    '123456789012345',
    '9007199254740991',
    '0.30000000000000004',
    '1.7976931348623157e308',
    '-0.000000000000000001',
    '100000000000000000000',
    '1e-7',
    '0e500',
    '1e-300',
  ])
    assert.equal(isRounded(s), false, s);
  for (const s of [
    '9007199254740993',
    '12345678901234567.89',
    '0.10000000000000000001',
    '-1234567890123456789',
    '1e400',
    '-1e-400',
    '1234567890123456789.0123456789',
  ])
    assert.equal(isRounded(s), true, s);
});

test('rounded literals are named by path, the way validation names fields; strings are skipped', () => {
  const text = JSON.stringify({
    changes: [
      { table: 't', row: { a: 1, big: 'X', s: '12345678901234567890', 'o.k': [1, 'X'] } },
      { row: { meta: { deep: [0, { v: 'X' }] } } },
    ],
  }).replace(/"X"/g, '12345678901234567.89');
  assert.deepEqual([...(roundedNumberPaths(text) ?? [])].sort(), [
    'changes[0].row.big',
    'changes[0].row.o.k[1]',
    'changes[1].row.meta.deep[1].v',
  ]);
});

test('bodies without a 16-digit run are not scanned', () => {
  assert.equal(roundedNumberPaths('{"row":{"id":"9007199254740993x","n":123456789012345}}'), undefined);
  assert.equal(roundedNumberPaths('{"s":"a \\" 12345678901234567890 \\\\","n":1}'), undefined);
});
