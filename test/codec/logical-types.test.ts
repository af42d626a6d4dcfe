import { test } from 'node:test';
import assert from 'node:assert/strict';
import { avroType } from '../../src/codec/avro-serde.js';
import { bigintToTwosComplement, twosComplementToBigint } from '../../src/codec/logical-types.js';
import { dateToDays, timestampToMicros, timeToMicros } from '../../src/core/temporal.js';
import { prng } from '../support/prng.js';

function roundTrip(schema: unknown, value: unknown): unknown {
  const t = avroType(schema as object);
  return t.fromBuffer(t.toBuffer(value));
}

test('decimal(38,10) keeps every digit at its limits', () => {
  const s = { type: 'bytes', logicalType: 'decimal', precision: 38, scale: 10 };
  for (const v of [
    '9999999999999999999999999999.9999999999',
    '-9999999999999999999999999999.9999999999',
    '0.0000000000',
    '-0.0000000001',
    '12.3400000000',
  ]) {
    assert.equal(roundTrip(s, v), v);
  }
  // fewer fraction digits are padded to the scale, never rounded
  assert.equal(roundTrip(s, '1.5'), '1.5000000000');
  assert.equal(roundTrip(s, 42), '42.0000000000');
});

test('decimal refuses values that would lose digits or exceed the precision', () => {
  const t = avroType({ type: 'bytes', logicalType: 'decimal', precision: 5, scale: 2 });
  assert.equal(t.isValid('123.45'), true);
  assert.equal(t.isValid('1.234'), false);
  assert.equal(t.isValid('1234.5'), false);
  assert.equal(t.isValid('abc'), false);
  assert.equal(t.isValid(''), false);
});

test("two's complement encoding matches Java BigInteger.toByteArray", () => {
  const cases: Array<[bigint, number[]]> = [
    [0n, [0]],
    [127n, [0x7f]],
    [128n, [0x00, 0x80]],
    [-1n, [0xff]],
    [-128n, [0x80]],
    [-129n, [0xff, 0x7f]],
    [255n, [0x00, 0xff]],
  ];
  for (const [n, bytes] of cases) {
    assert.deepEqual([...bigintToTwosComplement(n)], bytes, `encode ${n}`);
    assert.equal(twosComplementToBigint(Buffer.from(bytes)), n, `decode ${n}`);
  }
});

test('long is a bigint end to end, beyond 2^53', () => {
  for (const v of [9223372036854775807n, -9223372036854775808n, 9007199254740993n, 0n]) assert.equal(roundTrip('long', v), v);
  assert.equal(avroType('long').isValid(9223372036854775808n), false);
});

test('timestamps keep microseconds across the whole range', () => {
  const tz = { type: 'long', logicalType: 'timestamp-micros' };
  for (const v of [
    '2024-02-29T23:59:59.123456Z',
    '1969-12-31T23:59:59.999999Z',
    '9999-12-31T23:59:59.999999Z',
    '0001-01-01T00:00:00Z',
    '1970-01-01T00:00:00.000001Z',
  ]) {
    assert.equal(roundTrip(tz, v), v);
  }
  // an offset is applied, the result is UTC
  assert.equal(roundTrip(tz, '2024-01-01T01:30:00.5+01:30'), '2024-01-01T00:00:00.500000Z');
  const local = { type: 'long', logicalType: 'local-timestamp-micros' };
  assert.equal(roundTrip(local, '2024-06-01 12:00:00.000100'), '2024-06-01T12:00:00.000100');
  assert.equal(avroType(local).isValid('2024-06-01T12:00:00+02:00'), false);
  assert.equal(avroType(tz).isValid('2024-06-01T12:00:00'), false, 'an instant needs a zone');
  assert.equal(avroType(tz).isValid('2024-02-30T00:00:00Z'), false);
});

test('date and time-micros', () => {
  const date = { type: 'int', logicalType: 'date' };
  for (const v of ['1970-01-01', '1969-12-31', '2000-02-29', '0001-01-01', '9999-12-31']) assert.equal(roundTrip(date, v), v);
  assert.equal(avroType(date).isValid('2023-02-29'), false);
  const time = { type: 'long', logicalType: 'time-micros' };
  for (const v of ['00:00:00', '23:59:59.999999', '12:00:00.000001']) assert.equal(roundTrip(time, v), v);
  assert.equal(avroType(time).isValid('25:00:00'), false);
});

test('uuid is validated and lower-cased', () => {
  const s = { type: 'string', logicalType: 'uuid' };
  assert.equal(roundTrip(s, '123E4567-E89B-12D3-A456-426614174000'), '123e4567-e89b-12d3-a456-426614174000');
  assert.equal(avroType(s).isValid('not-a-uuid'), false);
});

test('nullable logical types accept null and their value', () => {
  const s = ['null', { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 }];
  assert.equal(roundTrip(s, null), null);
  assert.equal(roundTrip(s, '-3.10'), '-3.10');
});

test('dates and timestamps: the arithmetic calendar agrees with Date on 20,000 days across its range, and refuses what Date refuses', () => {
  // The reference: what dateToDays computed with a Date per value before.
  const viaDate = (y: number, m: number, d: number): number | undefined => {
    if (m < 1 || m > 12 || d < 1 || d > 31) return undefined;
    const dt = new Date(0);
    dt.setUTCFullYear(y, m - 1, d);
    if (dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d) return undefined;
    return Math.round(dt.getTime() / 86_400_000);
  };
  const text = (y: number, m: number, d: number) =>
    `${y < 0 ? '-' : ''}${String(Math.abs(y)).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  const r = prng(7);
  const years = [-271821, -4713, -1, 0, 1, 4, 100, 1582, 1600, 1700, 1900, 1969, 1970, 2000, 2024, 2100, 9999, 275760];
  for (let i = 0; i < 20_000; i++) {
    const y = i < years.length * 400 ? years[i % years.length]! : Math.floor(r() * 551_581) - 275_821;
    const m = 1 + Math.floor(r() * 13); // 13: an invalid month now and then
    const d = 1 + Math.floor(r() * 31);
    assert.equal(dateToDays(text(y, m, d)), viaDate(y, m, d), text(y, m, d));
    const ts = `${text(y, m, d)}T12:34:56.789Z`;
    const days = viaDate(y, m, d);
    assert.equal(timestampToMicros(ts, true), days === undefined ? undefined : BigInt(days) * 86_400_000_000n + 45_296_789_000n, ts);
  }
  assert.equal(timeToMicros('24:00:00'), 86_400_000_000n);
  assert.equal(timeToMicros('24:00:00.000001'), undefined);
  assert.equal(timeToMicros('23:59:59.5'), 86_399_500_000n);
});
