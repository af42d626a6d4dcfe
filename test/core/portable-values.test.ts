// The calendar arithmetic behind timestamptz offsets and years outside 1..9999, and float32
// canonicalisation, checked against Date where Date can be trusted and by round trips where not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValueError, canonicalFloat32, canonicalTimestamptz, checkValue, decimalAtScale } from '../../src/core/portable-values.js';
import type { ColumnType } from '../../src/core/table-schema.js';
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

test('one check, two origins: from an application a value may take its JSON forms and is checked in full', () => {
  const app = { fromApplication: true };
  const both = (type: ColumnType, v: unknown, expected: unknown) => {
    assert.deepEqual(checkValue(type, v), expected, `${type.kind} ${String(v)}`);
    assert.deepEqual(checkValue(type, v, app), expected, `${type.kind} ${String(v)} from an application`);
  };
  const appOnly = (type: ColumnType, v: unknown, expected: unknown) => {
    assert.throws(() => checkValue(type, v), ValueError, `${type.kind} ${String(v)}`);
    assert.deepEqual(checkValue(type, v, app), expected, `${type.kind} ${String(v)} from an application`);
  };
  const serverDecides = (type: ColumnType, v: unknown, expected: unknown) => {
    assert.deepEqual(checkValue(type, v), expected, `${type.kind} ${String(v)}`);
    assert.throws(() => checkValue(type, v, app), ValueError, `${type.kind} ${String(v)} from an application`);
  };
  both({ kind: 'int64' }, '-9223372036854775808', -9223372036854775808n);
  both({ kind: 'int32' }, 7n, 7);
  both({ kind: 'decimal', precision: 5, scale: 2 }, '-123.450', '-123.450');
  both({ kind: 'timestamptz' }, '2024-03-01 10:00:00.5+05:45', '2024-03-01T04:15:00.500000Z');
  both({ kind: 'timestamptz' }, '-0001-12-31T23:30:00-01', '0000-01-01T00:30:00Z');
  both({ kind: 'timestamp' }, '2024-02-29 23:59:59.000001', '2024-02-29T23:59:59.000001');
  both({ kind: 'date' }, '-0043-03-15', '-0043-03-15');
  both({ kind: 'time' }, '10:00:00.250', '10:00:00.250000');
  appOnly({ kind: 'int16' }, '-32768', -32768);
  appOnly({ kind: 'float64' }, '-Infinity', -Infinity);
  appOnly({ kind: 'json' }, { a: [1] }, '{"a":[1]}');
  appOnly({ kind: 'bytes' }, 'AAEC', Buffer.from([0, 1, 2]));
  appOnly({ kind: 'date' }, new Date('2024-02-29T23:00:00Z'), '2024-02-29');
  appOnly({ kind: 'timestamptz' }, new Date('1969-12-31T23:59:59.999Z'), '1969-12-31T23:59:59.999000Z');
  serverDecides({ kind: 'date' }, '2023-02-29', '2023-02-29');
  serverDecides({ kind: 'time' }, '25:00:00', '25:00:00');
  serverDecides({ kind: 'timestamp' }, '1900-02-29T00:00:00', '1900-02-29T00:00:00');
  serverDecides({ kind: 'timestamptz' }, '294276-12-31T23:59:59Z', '294276-12-31T23:59:59Z');
  serverDecides({ kind: 'string', maxLength: 2 }, 'abc', 'abc');
  serverDecides({ kind: 'json' }, '{not json', '{not json');
  assert.equal(checkValue({ kind: 'decimal', precision: 4, scale: 1 }, ' 1.5 ', app), '1.5');
  assert.equal(checkValue({ kind: 'timestamp' }, '2024-12-31 24:00:00', app), '2025-01-01T00:00:00');
  assert.equal(checkValue({ kind: 'string', maxLength: 2 }, '😀😀', app), '😀😀', 'length in characters, not UTF-16 units');
  for (const [type, v] of [
    [{ kind: 'decimal', precision: 4, scale: 2 }, '123.4'],
    [{ kind: 'decimal', precision: 4, scale: 2 }, '1.234'],
    [{ kind: 'int64' }, '9223372036854775808'],
    [{ kind: 'int64' }, 2 ** 60],
    [{ kind: 'int32' }, 2147483648],
    [{ kind: 'uuid' }, '1234'],
    [{ kind: 'string' }, 'a\u0000b'],
  ] as [ColumnType, unknown][]) {
    assert.throws(() => checkValue(type, v), ValueError, `${type.kind} ${String(v)}`);
    assert.throws(() => checkValue(type, v, app), ValueError, `${type.kind} ${String(v)} from an application`);
  }
});
