// Reconcile merges (key, row hash) streams from two databases in JS, so its key order must be the
// order both databases were asked to sort by: integers and decimals by value, strings by code point
// (UTF-8 byte order, which is what COLLATE "C" and MariaDB's utf8mb4 bytes give).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareCodePoints, compareDecimalText, compareKeys, keyRow } from '../../src/reconcile/keys.js';
import { prng } from '../support/prng.js';

test('strings compare by code point, as UTF-8 bytes do (astral characters after U+E000–U+FFFF)', () => {
  const r = prng(11);
  const alphabet = ['a', 'B', 'z', 'é', '\u00ff', '\ue000', '\uffee', '😀', '𝄞', ' ', ''];
  for (let i = 0; i < 3000; i++) {
    const s = () => Array.from({ length: Math.floor(r() * 4) }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
    const a = s();
    const b = s();
    assert.equal(Math.sign(compareCodePoints(a, b)), Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))), `${a} vs ${b}`);
  }
});

test('decimal texts compare by value', () => {
  const xs = ['-100.5', '-100', '-9.99', '-0.5', '0', '0.001', '0.1', '1', '1.5', '9.99', '10', '100.25'];
  for (let i = 0; i < xs.length; i++) {
    for (let j = 0; j < xs.length; j++)
      assert.equal(Math.sign(compareDecimalText(xs[i]!, xs[j]!)) + 0, Math.sign(i - j), `${xs[i]} vs ${xs[j]}`);
  }
});

test("composite keys compare column by column with each column's order; key texts turn back into portable values", () => {
  const cols = [
    { name: 'region', type: { kind: 'string' as const }, nullable: false },
    { name: 'n', type: { kind: 'int64' as const }, nullable: false },
  ];
  const cmp = compareKeys(cols);
  const keys = [
    ['A', '-5'],
    ['A', '2'],
    ['A', '10'],
    ['a', '-1'],
    ['é', '0'],
    ['😀', '1'],
  ];
  for (let i = 0; i < keys.length; i++) {
    for (let j = 0; j < keys.length; j++) assert.equal(Math.sign(cmp(keys[i]!, keys[j]!)), Math.sign(i - j));
  }
  assert.deepEqual(keyRow(cols, ['x', '9007199254740993']), { region: 'x', n: 9007199254740993n });
  assert.deepEqual(keyRow([{ name: 't', type: { kind: 'timestamptz' }, nullable: false }], ['2024-01-02 03:04:05.5']), {
    t: '2024-01-02T03:04:05.5Z',
  });
});
