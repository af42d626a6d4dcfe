// The calendar arithmetic behind timestamptz offsets and years outside 1..9999, and float32
// canonicalisation, checked against Date where Date can be trusted and by round trips where not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalFloat32, canonicalTimestamptz, decimalAtScale } from '../../src/core/portable-values.js';
import { civilFromDays, daysFromCivil } from '../../src/core/temporal.js';

test('days from civil agrees with Date over 1600..2400 and round-trips far beyond', () => {
  for (let days = daysFromCivil(1600, 1, 1); days < daysFromCivil(2400, 1, 1); days += 7) {
    const d = new Date(days * 86_400_000);
    assert.deepEqual(civilFromDays(days), [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()]);
  }
  for (const [y, m, d] of [
    [-4712, 1, 1],
    [0, 2, 29],
    [294276, 12, 31],
    [5874897, 12, 31],
  ] as const)
    assert.deepEqual(civilFromDays(daysFromCivil(y, m, d)), [y, m, d]);
});

test('timestamptz text with an offset becomes canonical UTC, across day, year and era boundaries', () => {
  assert.equal(canonicalTimestamptz('2024-01-01T00:00:00+01:00'), '2023-12-31T23:00:00Z');
  assert.equal(canonicalTimestamptz('2024-02-28T23:30:00.1-00:45'), '2024-02-29T00:15:00.100000Z');
  assert.equal(canonicalTimestamptz('0001-01-01T00:30:00+01'), '0000-12-31T23:30:00Z');
  assert.equal(canonicalTimestamptz('2024-01-01 00:00:00.000000Z'), '2024-01-01T00:00:00Z');
});

test('float32 reads as the shortest decimal with the same float32 value', () => {
  assert.equal(canonicalFloat32(Math.fround(0.1)), 0.1);
  assert.equal(canonicalFloat32(3.4028234663852886e38), 3.4028235e38);
  assert.equal(canonicalFloat32(1.401298464324817e-45), 1e-45);
  assert.ok(Object.is(canonicalFloat32(-0), -0));
  assert.ok(Number.isNaN(canonicalFloat32(Number.NaN)));
  for (let i = 0; i < 2000; i++) {
    const f = Math.fround((Math.random() - 0.5) * 10 ** ((i % 60) - 30));
    assert.equal(Math.fround(canonicalFloat32(f)), f);
  }
});

test('decimal text at a scale is canonical', () => {
  assert.equal(decimalAtScale('1.5', 3), '1.500');
  assert.equal(decimalAtScale('-001.50', 2), '-1.50');
  assert.equal(decimalAtScale('-0.00', 2), '0.00');
  assert.equal(decimalAtScale('.5', 1), '0.5');
  assert.equal(decimalAtScale('7', 0), '7');
});
