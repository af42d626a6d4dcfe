// The one calendar and epoch module behind the codec's logical types, the capture checks and the
// dialects' temporal text: proleptic Gregorian with year 0, offsets in minutes (and seconds),
// microsecond fractions, and the two ways to an instant (epoch micros, UTC text) agreeing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalFraction,
  checkedDaysFromCivil,
  civilFromDays,
  dateToDays,
  daysFromCivil,
  daysToDate,
  microsToTime,
  microsToTimestamp,
  offsetSeconds,
  timeToMicros,
  timestampToMicros,
  utcText,
} from '../../src/core/temporal.js';
import { canonicalTimestamptz } from '../../src/core/portable-values.js';
import { prng } from '../support/prng.js';

test('dates before 1970, around year 0, negative and beyond 9999 map to days and back', () => {
  const cases: [string, number][] = [
    ['1970-01-01', 0],
    ['1969-12-31', -1],
    ['1900-01-01', -25567],
    ['0001-01-01', -719162],
    ['0000-12-31', -719163],
    ['0000-01-01', -719528],
    ['-0001-12-31', -719529],
    ['-4713-11-24', -2440588], // Julian day 0
    ['9999-12-31', 2932896],
    ['10000-01-01', 2932897],
    ['275760-09-13', 100_000_000], // the last day Date holds
    ['-271821-04-20', -100_000_000],
  ];
  for (const [text, days] of cases) {
    assert.equal(dateToDays(text), days, text);
    assert.equal(daysToDate(days), text, String(days));
  }
  assert.equal(dateToDays('275760-09-14'), undefined, 'beyond ±10^8 days');
  assert.equal(dateToDays('-271821-04-19'), undefined);
  // Unchecked arithmetic keeps going where PostgreSQL's limits lie.
  assert.deepEqual(civilFromDays(daysFromCivil(294276, 12, 31)), [294276, 12, 31]);
  assert.equal(daysToDate(daysFromCivil(-4712, 1, 1)), '-4712-01-01');
});

test('leap days: every 4th year, not every 100th, every 400th, year 0 included', () => {
  for (const y of [2024, 2000, 1600, 0, -4, -400, 4, 400]) assert.notEqual(checkedDaysFromCivil(y, 2, 29), undefined, `${y}-02-29 exists`);
  for (const y of [2023, 1900, 2100, 1700, -1, -100, 1, 100])
    assert.equal(checkedDaysFromCivil(y, 2, 29), undefined, `${y}-02-29 does not exist`);
  assert.equal(daysToDate(daysFromCivil(2024, 2, 28) + 1), '2024-02-29');
  assert.equal(daysToDate(daysFromCivil(2023, 2, 28) + 1), '2023-03-01');
  assert.equal(daysToDate(daysFromCivil(0, 2, 28) + 1), '0000-02-29');
  assert.equal(dateToDays('2023-02-29'), undefined);
  assert.equal(dateToDays('2024-04-31'), undefined);
  assert.equal(dateToDays('2024-00-10'), undefined);
  assert.equal(dateToDays('2024-13-01'), undefined);
});

test('days to date agrees with Date wherever Date has the day', () => {
  const r = prng(11);
  for (let i = 0; i < 5000; i++) {
    const days = Math.floor((r() * 2 - 1) * 100_000_000);
    const d = new Date(days * 86_400_000);
    assert.deepEqual(civilFromDays(days), [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()], String(days));
  }
});

test('fractional seconds keep up to six digits, exactly', () => {
  assert.equal(timeToMicros('00:00:00.1'), 100_000n);
  assert.equal(timeToMicros('00:00:00.000001'), 1n);
  assert.equal(timeToMicros('12:34:56.123456'), 45_296_123_456n);
  assert.equal(timeToMicros('12:34:56.1234567'), undefined);
  assert.equal(microsToTime(45_296_123_456n), '12:34:56.123456');
  assert.equal(microsToTime(45_296_100_000n), '12:34:56.100000');
  assert.equal(microsToTime(45_296_000_000n), '12:34:56');
  assert.equal(microsToTime(86_400_000_000n), '24:00:00');
  assert.equal(canonicalFraction('.000000'), '');
  assert.equal(canonicalFraction('.5'), '.500000');
  assert.equal(canonicalFraction('000001'), '.000001');
  assert.equal(timeToMicros('23:60:00'), undefined);
  assert.equal(timeToMicros('23:59:60'), undefined);
});

test('instants before 1970 and before year 1 keep their microseconds', () => {
  assert.equal(microsToTimestamp(-1n, true), '1969-12-31T23:59:59.999999Z');
  assert.equal(timestampToMicros('1969-12-31T23:59:59.999999Z', true), -1n);
  const y0 = timestampToMicros('0000-03-01T00:00:00.000001', false)!;
  assert.equal(microsToTimestamp(y0, false), '0000-03-01T00:00:00.000001');
  assert.equal(microsToTimestamp(y0 - 2n, false), '0000-02-29T23:59:59.999999');
  assert.equal(microsToTimestamp(timestampToMicros('-0043-03-15T12:00:00Z', true)!, true), '-0043-03-15T12:00:00Z');
  assert.equal(microsToTimestamp(timestampToMicros('12345-06-07 08:09:10.5Z', true)!, true), '12345-06-07T08:09:10.500000Z');
});

test('zone offsets in hours, minutes and seconds move the instant, across days, years and year 0', () => {
  assert.equal(offsetSeconds('Z'), 0);
  assert.equal(offsetSeconds('+05'), 18_000);
  assert.equal(offsetSeconds('+05:30'), 19_800);
  assert.equal(offsetSeconds('+0545'), 20_700);
  assert.equal(offsetSeconds('-03:30'), -12_600);
  assert.equal(offsetSeconds('+00:09:21'), 561); // PostgreSQL's local mean time offsets
  assert.throws(() => offsetSeconds('+5'), RangeError);
  const at = (text: string) => microsToTimestamp(timestampToMicros(text, true)!, true);
  assert.equal(at('2024-01-01T00:00:00+05:30'), '2023-12-31T18:30:00Z');
  assert.equal(at('2023-12-31T22:00:00-03:30'), '2024-01-01T01:30:00Z');
  assert.equal(at('2024-02-28T23:59:59.999999-0045'), '2024-02-29T00:44:59.999999Z');
  assert.equal(at('0001-01-01T00:15:00+00:30'), '0000-12-31T23:45:00Z');
  assert.equal(utcText(1900, 1, 1, 0, 0, 0, '', 561), '1899-12-31T23:50:39Z');
  assert.equal(utcText(-1, 12, 31, 23, 0, 0, '.250000', -7200), '0000-01-01T01:00:00.250000Z');
  assert.equal(timestampToMicros('2024-01-01T00:00:00+05:30', false), undefined, 'a local timestamp takes no offset');
  assert.equal(timestampToMicros('2024-01-01T00:00:00', true), undefined, 'a zoned one needs one');
});

test('epoch micros and UTC text give the same instant for any valid zoned timestamp', () => {
  const r = prng(3);
  const two = (n: number) => String(n).padStart(2, '0');
  for (let i = 0; i < 5000; i++) {
    const y = Math.floor(r() * 24_000) - 12_000;
    const m = 1 + Math.floor(r() * 12);
    const d = 1 + Math.floor(r() * 28);
    const year = y < 0 ? `-${String(-y).padStart(4, '0')}` : String(y).padStart(4, '0');
    const frac = r() < 0.5 ? '' : `.${String(Math.floor(r() * 1e6)).slice(0, 1 + Math.floor(r() * 6))}`;
    const oh = Math.floor(r() * 15);
    const zone = r() < 0.2 ? 'Z' : `${r() < 0.5 ? '-' : '+'}${two(oh)}${r() < 0.5 ? ':' : ''}${two([0, 15, 30, 45][Math.floor(r() * 4)]!)}`;
    const text = `${year}-${two(m)}-${two(d)}T${two(Math.floor(r() * 24))}:${two(Math.floor(r() * 60))}:${two(Math.floor(r() * 60))}${frac}${zone}`;
    assert.equal(microsToTimestamp(timestampToMicros(text, true)!, true), canonicalTimestamptz(text), text);
  }
});
