// PostgreSQL's text form both ways, without a server: the parsers that replace the drivers' lossy
// defaults (docs/guarantees.md: lossless-values) and the encoder that writes portable values as
// input text (years before 1, -0, bytea, shape checks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PG_OID,
  PG_TEXT_PARSERS,
  parsePgBytea,
  parsePgDate,
  parsePgTime,
  parsePgTimestamp,
  parsePgTimestamptz,
  pgTextEncoder,
  toPgText,
} from '../../src/metadata/pg-text.js';
import { ValueError } from '../../src/core/portable-values.js';

test('timestamptz keeps microseconds and converts any offset (hours, minutes, seconds) to UTC', () => {
  assert.equal(parsePgTimestamptz('2024-01-02 03:04:05.123456+00'), '2024-01-02T03:04:05.123456Z');
  assert.equal(parsePgTimestamptz('2024-01-02 03:04:05+00'), '2024-01-02T03:04:05Z');
  assert.equal(parsePgTimestamptz('2024-01-02 03:04:05.5+05:30'), '2024-01-01T21:34:05.500000Z');
  assert.equal(parsePgTimestamptz('1900-01-01 05:53:28+05:53:28'), '1900-01-01T00:00:00Z');
  assert.equal(parsePgTimestamptz('2024-03-01 00:30:00-01'), '2024-03-01T01:30:00Z');
  assert.equal(parsePgTimestamptz('2023-12-31 23:59:59.999999-00:00:01'), '2024-01-01T00:00:00.999999Z');
  assert.equal(parsePgTimestamptz('0044-03-15 10:00:00+00 BC'), '-0043-03-15T10:00:00Z');
  assert.equal(parsePgTimestamptz('294276-12-31 23:59:59.999999+00'), '294276-12-31T23:59:59.999999Z');
  assert.equal(parsePgTimestamptz('infinity'), 'infinity');
});

test('dates, times and timestamps: astronomical years, canonical six-digit fractions', () => {
  assert.equal(parsePgDate('2024-02-29'), '2024-02-29');
  assert.equal(parsePgDate('0001-01-01 BC'), '0000-01-01');
  assert.equal(parsePgDate('4713-01-01 BC'), '-4712-01-01');
  assert.equal(parsePgTime('12:00:00.5'), '12:00:00.500000');
  assert.equal(parsePgTime('12:00:00'), '12:00:00');
  assert.equal(parsePgTimestamp('2024-01-01 00:00:00.000001'), '2024-01-01T00:00:00.000001');
  assert.equal(parsePgTimestamp('0044-03-15 10:00:00 BC'), '-0043-03-15T10:00:00');
});

test('int8 as bigint beyond 2^53, numeric and json as their exact text, bytea hex and escape formats', () => {
  assert.equal(PG_TEXT_PARSERS[PG_OID.int8]!('9007199254740993'), 9007199254740993n);
  assert.equal(PG_TEXT_PARSERS[PG_OID.numeric]!('-9999999999999999999999999999.9999999999'), '-9999999999999999999999999999.9999999999');
  assert.equal(PG_TEXT_PARSERS[PG_OID.json]!('{"a": 1}'), '{"a": 1}');
  assert.equal(PG_TEXT_PARSERS[PG_OID.float4]!('0.1'), 0.1);
  assert.equal(PG_TEXT_PARSERS[PG_OID.float8]!('-Infinity'), Number.NEGATIVE_INFINITY);
  assert.ok(Object.is(PG_TEXT_PARSERS[PG_OID.float8]!('-0'), -0));
  assert.deepEqual(parsePgBytea('\\x00ff5c'), Buffer.from([0, 255, 0x5c]));
  assert.deepEqual(parsePgBytea('a\\\\b\\000\\377'), Buffer.from([0x61, 0x5c, 0x62, 0, 255]));
});

test('portable values as PostgreSQL input text', () => {
  assert.equal(toPgText({ kind: 'int64' }, 9223372036854775807n), '9223372036854775807');
  assert.equal(toPgText({ kind: 'int64' }, '42'), '42');
  assert.equal(toPgText({ kind: 'float64' }, -0), '-0');
  assert.equal(toPgText({ kind: 'float32' }, Number.NaN), 'NaN');
  assert.equal(toPgText({ kind: 'boolean' }, false), 'f');
  assert.equal(toPgText({ kind: 'bytes' }, Buffer.from([1, 2])), '\\x0102');
  assert.equal(toPgText({ kind: 'date' }, '-0043-03-15'), '0044-03-15 BC');
  assert.equal(toPgText({ kind: 'timestamp' }, '0000-06-01T12:00:00.5'), '0001-06-01 12:00:00.500000 BC');
  assert.equal(toPgText({ kind: 'timestamptz' }, '-4712-01-01T00:00:00Z'), '4713-01-01 00:00:00+00 BC');
  assert.equal(toPgText({ kind: 'timestamptz' }, '2024-01-01T00:00:00+05:30'), '2024-01-01T00:00:00+05:30');
  assert.equal(toPgText({ kind: 'decimal', precision: 5, scale: 2 }, '-123.45'), '-123.45');
  assert.equal(toPgText({ kind: 'string' }, null), null);
});

test('a value of the wrong shape is a ValueError, never a silent reinterpretation', () => {
  const bad: Array<[Parameters<typeof pgTextEncoder>[0], unknown]> = [
    [{ kind: 'int32' }, 2 ** 40],
    [{ kind: 'int32' }, 1.5],
    [{ kind: 'int64' }, 2 ** 60],
    [{ kind: 'int64' }, 2n ** 63n],
    [{ kind: 'boolean' }, 'true'],
    [{ kind: 'decimal', precision: 5, scale: 2 }, '1234.5'],
    [{ kind: 'decimal', precision: 5, scale: 2 }, '1.234'],
    [{ kind: 'decimal', precision: 5, scale: 2 }, 'NaN'],
    [{ kind: 'string' }, 'a\u0000b'],
    [{ kind: 'uuid' }, 'not-a-uuid'],
    // A timestamptz without a zone would be read in the session's zone; a timestamp with one would drop it.
    [{ kind: 'timestamptz' }, '2024-01-01T00:00:00'],
    [{ kind: 'timestamp' }, '2024-01-01T00:00:00Z'],
    [{ kind: 'date' }, '2024/01/01'],
    [{ kind: 'time' }, '25h'],
    [{ kind: 'bytes' }, 'AQI='],
    [{ kind: 'json' }, { a: 1 }],
  ];
  for (const [type, v] of bad) assert.throws(() => toPgText(type, v), ValueError, `${type.kind} ${String(v)}`);
});
