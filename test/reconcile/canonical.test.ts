// Canonical row text and hash on the machine's PostgreSQL and MariaDB and on PGlite: the same values
// stored in corresponding (and in different-but-compatible) column types give the same text and
// the same hashes on every side, including limits and thousands of seeded random floats; NULL,
// '' and separators cannot be confused; a planted one-unit difference always changes the hash.
// Each side reads its own introspected column types, under hostile session settings that
// canonicalSessionSql must override; where a case names a logical type (the source column's, as
// reconcile passes it), every table reads its values as that type: a uuid in a CHAR(36), a boolean
// in a TINYINT, JSON in a LONGTEXT or text column. JSON compares by value: key order, whitespace
// and the spelling of a number (1, 1.0, 1e0) do not matter; a digit, a type, array order do.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import type { PoolConnection } from 'mysql2/promise';
import type { Column, ColumnType } from '../../src/core/table-schema.js';
import { canonicalFloat32, introspect } from '../../src/metadata/index.js';
import {
  canonicalColumnSql,
  canonicalRowSql,
  canonicalSessionSql,
  hash64,
  hash64Sql,
  mod64,
  type CanonicalColumn,
} from '../../src/reconcile/canonical.js';
import { skipUnless } from '../support/services.js';
import { prng } from '../support/prng.js';
import {
  MYSQL_WHAT,
  POSTGRES_WHAT,
  mysqlAvailable,
  postgresAvailable,
  scratchMysql,
  scratchPostgres,
  type ScratchMysql,
  type ScratchPostgres,
} from '../support/databases.js';

const pgUp = await postgresAvailable();
const myUp = await mysqlAvailable();

// --- corpus -------------------------------------------------------------------------------------

type Val = string | number | Buffer | null;
/** A value as written to PostgreSQL (text), to MariaDB (when different), and its expected text. */
interface Entry {
  readonly pg: Val;
  readonly my?: Val;
  readonly text?: string | null;
}
interface Case {
  readonly name: string;
  /** PostgreSQL column types; the first is the reference for the distinctness check. */
  readonly pg: readonly string[];
  readonly my: readonly string[];
  readonly values: readonly Entry[];
  /** Read every table's column as this type (the source's, as reconcile does); default its own. */
  readonly logical?: ColumnType;
}

const e = (pgValue: Val, text?: string | null, my?: Val): Entry => ({ pg: pgValue, text, ...(my !== undefined ? { my } : {}) });
const same = (values: readonly Val[]): Entry[] => values.map((v) => e(v));

function u64(buf: Buffer): bigint {
  return buf.readBigUInt64BE(0);
}

/** The next double away from zero: one unit in the last place. */
function nextUp(x: number): number {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(x);
  b.writeBigUInt64BE(u64(b) + 1n);
  return b.readDoubleBE(0);
}

/** Doubles as exact text: limits, boundaries of every layout rule, and seeded random ones. */
function float64Corpus(): Entry[] {
  const out: Entry[] = [
    e('0', '0'),
    e('-0', '0'),
    e('0.1', '0.1'),
    e('-0.1', '-0.1'),
    e('1e-5', '1e-05'),
    e('1e-4', '0.0001'),
    e('1e14', '100000000000000'),
    e('1e15', '1e+15'),
    e('1.5e15', '1.5e+15'),
    e('1234567890123456.8', '1.2345678901234568e+15'),
    e('1e16', '10000000000000000'),
    e('1e23', '99999999999999991611392'),
    e('87101021409035000', '87101021409035008'),
    e('1e50', '1e+50'),
    e('1.5e-10', '1.5e-10'),
    e('1e-15', '1e-15'),
    e('1e-16', '1e-16'),
    e('5e-324', '5e-324'),
    e('-5e-324', '-5e-324'),
    e('2.2250738585072014e-308', '2.2250738585072014e-308'),
    e('1.7976931348623157e308', '1.7976931348623157e+308'),
    e('-1.7976931348623157e308', '-1.7976931348623157e+308'),
    e('123456789.123', '123456789.123'),
    e(String(1 / 3), '0.3333333333333333'),
    e('-2.5', '-2.5'),
    e('100', '100'),
    e('9007199254740993', '9007199254740992'),
    e('87112285931760246646623899502532662132736', '8.711228593176025e+40'),
    e(null, null),
  ];
  const seen = new Set(out.map((x) => x.pg));
  const add = (v: number) => {
    if (!Number.isFinite(v) || v === 0) return;
    const s = String(v);
    if (!seen.has(s)) {
      seen.add(s);
      out.push(e(s));
    }
  };
  const bits = Buffer.alloc(8);
  const fromBits = (n: bigint) => {
    bits.writeBigUInt64BE(BigInt.asUintN(64, n));
    return bits.readDoubleBE(0);
  };
  const step = (v: number, d: number) => {
    bits.writeDoubleBE(v);
    return fromBits(u64(bits) + BigInt(d));
  };
  // Neighbours of every place a layout rule changes, and of powers of ten.
  for (const b of [1e-4, 1e15, 1e-15, 2 ** 53, 2 ** 136, 1e16, 1e23])
    for (const d of [-2, -1, 0, 1, 2]) {
      add(step(b, d));
      add(-step(b, d));
    }
  for (let x = -30; x <= 30; x++) for (const d of [-1, 0, 1]) add(step(Number(`1e${x}`), d));
  const rnd = prng(0x5eed);
  const digits = (n: number) => Array.from({ length: n }, (_, i) => String(Math.floor(rnd() * 10) || (i === 0 ? 1 : 0))).join('');
  const sign = () => (rnd() < 0.3 ? -1 : 1);
  // Decimal-looking values over the whole exponent range, few-digit ones where PostgreSQL and
  // MariaDB choose different digits (1e16..1e45), and raw bit patterns.
  for (let i = 0; i < 1500; i++) add(sign() * Number(`${digits(1 + Math.floor(rnd() * 17))}e${Math.floor(rnd() * 640) - 330}`));
  for (let i = 0; i < 500; i++) add(sign() * Number(`${digits(1 + Math.floor(rnd() * 6))}e${16 + Math.floor(rnd() * 30)}`));
  for (let i = 0; i < 1500; i++) add(fromBits((BigInt(Math.floor(rnd() * 2 ** 32)) << 32n) | BigInt(Math.floor(rnd() * 2 ** 32))));
  return out;
}

function float32Corpus(): Entry[] {
  const out: Entry[] = [
    e('0', '0'),
    e('-0', '0'),
    e('0.5', '0.5'),
    e(String(Math.fround(0.1)), '0.10000000149011612'),
    e('16777216', '16777216'),
    e('3.4028234663852886e38', '340282346638528859811704183484516925440'),
    e('1.401298464324817e-45', '1.401298464324817e-45'),
    e('-1.5', '-1.5'),
    e(null, null),
  ];
  const seen = new Set(out.map((x) => x.pg));
  const rnd = prng(32);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < 600; i++) {
    if (i % 2) u[0] = Math.floor(rnd() * 2 ** 32);
    else f[0] = (rnd() < 0.3 ? -1 : 1) * rnd() * 10 ** (Math.floor(rnd() * 80) - 42);
    const v = f[0]!;
    if (!Number.isFinite(v) || v === 0 || seen.has(String(v))) continue;
    seen.add(String(v));
    out.push(e(String(v)));
  }
  return out;
}

const LONG = 'x'.repeat(5000) + '😀';
const BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const hexBytes = (b: Buffer) => e(`\\x${b.toString('hex')}`, b.toString('hex'), b);

const CASES: readonly Case[] = [
  { name: 'boolean', pg: ['boolean'], my: ['tinyint(1)', 'bit(1)'], values: [e('true', '1', 1), e('false', '0', 0), e(null, null)] },
  {
    name: 'int16',
    pg: ['smallint'],
    my: ['smallint'],
    values: [e('-32768', '-32768'), e('32767', '32767'), e('0', '0'), e('-1', '-1'), e(null, null)],
  },
  { name: 'year as int16', pg: ['smallint'], my: ['year'], values: same(['1901', '2024', '2155', null]) },
  {
    name: 'int32',
    pg: ['integer'],
    my: ['int'],
    values: [e('-2147483648', '-2147483648'), e('2147483647', '2147483647'), e('7', '7'), e(null, null)],
  },
  {
    name: 'int64',
    pg: ['bigint'],
    my: ['bigint'],
    values: [
      e('-9223372036854775808', '-9223372036854775808'),
      e('9223372036854775807', '9223372036854775807'),
      e('0', '0'),
      e(null, null),
    ],
  },
  {
    name: 'bigint unsigned as decimal(20,0)',
    pg: ['numeric(20,0)'],
    my: ['bigint unsigned'],
    values: [e('18446744073709551615', '18446744073709551615'), e('0', '0'), e(null, null)],
  },
  {
    name: 'decimal(38,10)',
    pg: ['numeric(38,10)'],
    my: ['decimal(38,10)'],
    values: [
      e('0', '0'),
      e('1.50', '1.5'),
      e('-1.5', '-1.5'),
      e('100', '100'),
      e('-0.0000000001', '-0.0000000001'),
      e('0.0000000001', '0.0000000001'),
      e('9999999999999999999999999999.9999999999', '9999999999999999999999999999.9999999999'),
      e('-9999999999999999999999999999.9999999999', '-9999999999999999999999999999.9999999999'),
      e('1.2345678901', '1.2345678901'),
      e('1.2345678900', '1.23456789'),
      e('-0.5', '-0.5'),
      e('10.01', '10.01'),
      e(null, null),
    ],
  },
  {
    name: 'decimal at different scales',
    pg: ['numeric(10,2)', 'numeric(12,4)'],
    my: ['decimal(10,2)', 'decimal(12,4)'],
    values: [
      e('1.50', '1.5'),
      e('0.00', '0'),
      e('-3.10', '-3.1'),
      e('100', '100'),
      e('12345678.99', '12345678.99'),
      e('-0.01', '-0.01'),
      e('20.5', '20.5'),
      e(null, null),
    ],
  },
  { name: 'float64', pg: ['double precision'], my: ['double'], values: float64Corpus() },
  { name: 'float32', pg: ['real'], my: ['float'], values: float32Corpus() },
  {
    name: 'string',
    pg: ['text', 'varchar(6000)'],
    my: ['longtext', 'varchar(6000)'],
    values: [
      e('', ''),
      e('a', 'a'),
      e('A', 'A'),
      e('a ', 'a '),
      e(' a', ' a'),
      e('é', 'é'),
      e('日本語', '日本語'),
      e('😀🎉', '😀🎉'),
      e('a|b', 'a|b'),
      e('\\N', '\\N'),
      e('1:a', '1:a'),
      e(':', ':'),
      e('|', '|'),
      e('line\nbreak\ttab', 'line\nbreak\ttab'),
      e("quote'", "quote'"),
      e('back\\slash', 'back\\slash'),
      e(LONG, LONG),
      e(null, null),
    ],
  },
  {
    name: 'latin1 strings',
    pg: ['text'],
    my: ['varchar(50) CHARACTER SET latin1', 'varchar(50) CHARACTER SET utf8mb4'],
    values: same(['', 'é', 'naïve façade', 'a|b', '\\N', null]),
  },
  {
    name: 'char(n) without trailing spaces',
    pg: ['char(5)'],
    my: ['char(5)'],
    values: [e('ab', 'ab'), e('ab  ', 'ab'), e('abcde', 'abcde'), e(null, null)],
  },
  {
    name: 'json',
    pg: ['json', 'jsonb'],
    my: ['json'],
    values: same(['{"a": 1}', '{"a":1}', '[1, 2, 3]', '"x"', 'null', '{"k": "é😀|\\\\N"}', '{}', null]),
  },
  {
    // The PostgreSQL spelling and another one of the same document on MariaDB (other key order,
    // whitespace, number spelling), and the common text both give.
    name: 'json by value',
    pg: ['jsonb', 'json', 'text'],
    my: ['json', 'longtext'],
    logical: { kind: 'json' },
    values: [
      e('{"b": 1, "a": 2}', '{"a":2.0E0,"b":1.0E0}', '{ "a" : 2.0, "b":1 }'),
      e(
        '{"aa": 1, "b": [true, false, null], "a b": {}}',
        '{"a b":{},"aa":1.0E0,"b":[true,false,null]}',
        '{"b":[true,false,null],"aa":1e0,"a b":{}}',
      ),
      e(
        '[1, 1.0, 1e2, -0, 0.5, 12345678901234567890, 1.25e-7]',
        '[1.0E0,1.0E0,1.0E2,0.0E0,5.0E-1,1.234567890123456789E19,1.25E-7]',
        '[1.00,10e-1,100,0,5E-1,12345678901234567890.000,0.000000125]',
      ),
      e(
        '{"k": {"z": [{"y": 1, "x": "é😀"}], "a": null}}',
        '{"k":{"a":null,"z":[{"x":"é😀","y":1.0E0}]}}',
        '{"k":{"a":null,"z":[{"x":"é😀","y":1}]}}',
      ),
      e('{"q\\"": 1, "q#": 2, "q\\\\": 3, "q\\t": "a\\nb"}', '{"q#":2.0E0,"q\\"":1.0E0,"q\\\\":3.0E0,"q\\t":"a\\nb"}'),
      e(
        '{"a": {"b": {"c": {"d": {"e": {"f": [1, {"z": 1, "y": [2, {"q": 3, "p": "x"}]}]}}}}}}',
        '{"a":{"b":{"c":{"d":{"e":{"f":[1.0E0,{"y":[2.0E0,{"p":"x","q":3.0E0}],"z":1.0E0}]}}}}}}',
      ),
      e('"a|b"', '"a|b"'),
      e('"\\\\N"', '"\\\\N"'),
      e('{}', '{}'),
      e('[]', '[]'),
      e('0', '0.0E0'),
      e('true', 'true'),
      e(null, null),
    ],
  },
  {
    name: 'uuid in text columns',
    pg: ['uuid', 'text', 'char(36)'],
    my: ['uuid', 'char(36)', 'varchar(36)'],
    logical: { kind: 'uuid' },
    values: [
      e('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
      e('B0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
      e('2962e906-0000-4000-8000-000000000000', '2962e906-0000-4000-8000-000000000000'),
      e(null, null),
    ],
  },
  {
    name: 'boolean in integer columns',
    pg: ['boolean', 'smallint', 'integer'],
    my: ['tinyint(1)', 'bit(1)', 'tinyint', 'int'],
    logical: { kind: 'boolean' },
    values: [e('1', '1', 1), e('0', '0', 0), e(null, null)],
  },
  {
    name: 'integers in wider and decimal columns',
    pg: ['integer', 'bigint', 'numeric(12,0)', 'numeric(14,2)', 'numeric'],
    my: ['int', 'bigint', 'decimal(12,0)', 'decimal(14,2)'],
    logical: { kind: 'int32' },
    values: [e('0', '0'), e('-2147483648', '-2147483648'), e('2147483647', '2147483647'), e('100', '100'), e(null, null)],
  },
  {
    name: 'decimal in wider and unconstrained numeric columns',
    pg: ['numeric(12,4)', 'numeric(20,8)', 'numeric'],
    my: ['decimal(12,4)', 'decimal(20,8)'],
    logical: { kind: 'decimal', precision: 12, scale: 4 },
    values: [
      e('1.5000', '1.5'),
      e('-0.0001', '-0.0001'),
      e('12345678.9000', '12345678.9'),
      e('0.0000', '0'),
      e('100.0000', '100'),
      e(null, null),
    ],
  },
  {
    // Apply writes a float32 as its shortest decimal ('0.1' for 0.1f), which a double column keeps
    // as that decimal's double; also the float32's exact value. (The shortest decimal of the
    // largest float32, 3.4028235e38, lies above it: MariaDB's FLOAT refuses it as out of range.)
    name: 'float32 in double columns',
    pg: ['real', 'double precision'],
    my: ['float', 'double'],
    logical: { kind: 'float32' },
    values: float32Corpus().flatMap((x) => {
      const shortest = typeof x.pg === 'string' ? canonicalFloat32(Number(x.pg)) : 0;
      return shortest !== 0 && Math.abs(shortest) <= 3.4028234663852886e38 ? [x, { ...x, pg: String(shortest) }] : [x];
    }),
  },
  {
    name: 'timestamptz in timestamp columns',
    pg: ['timestamptz(6)', 'timestamp(6)'],
    my: ['timestamp(6) NULL', 'datetime(6)'],
    logical: { kind: 'timestamptz' },
    values: [
      e('2024-01-02 03:04:05.123456+00', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123456'),
      e('1999-12-31 23:00:00+00', '1999-12-31 23:00:00', '1999-12-31 23:00:00'),
      e(null, null),
    ],
  },
  {
    name: 'bytes',
    pg: ['bytea'],
    my: ['longblob', 'varbinary(300)'],
    values: [
      hexBytes(Buffer.alloc(0)),
      hexBytes(Buffer.from([0])),
      hexBytes(Buffer.from('deadbeef', 'hex')),
      hexBytes(Buffer.from('|\\N', 'latin1')),
      hexBytes(BYTES),
      e(null, null),
    ],
  },
  {
    name: 'uuid',
    pg: ['uuid'],
    my: ['uuid'],
    values: [
      e('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
      e('B0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
      e('00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000'),
      e('ffffffff-ffff-ffff-ffff-ffffffffffff', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
      e(null, null),
    ],
  },
  {
    name: 'date',
    pg: ['date'],
    my: ['date'],
    values: [
      e('0001-01-01', '0001-01-01'),
      e('1970-01-01', '1970-01-01'),
      e('2024-02-29', '2024-02-29'),
      e('9999-12-31', '9999-12-31'),
      e(null, null),
    ],
  },
  {
    name: 'time(6)',
    pg: ['time(6)'],
    my: ['time(6)'],
    values: [
      e('00:00:00', '00:00:00'),
      e('12:34:56', '12:34:56'),
      e('12:34:56.5', '12:34:56.5'),
      e('12:34:56.120', '12:34:56.12'),
      e('12:34:56.123456', '12:34:56.123456'),
      e('23:59:59.999999', '23:59:59.999999'),
      e('00:00:00.000001', '00:00:00.000001'),
      e('10:00:00.100000', '10:00:00.1'),
      e(null, null),
    ],
  },
  {
    name: 'time at 0, 3 and 6 digits',
    pg: ['time(3)', 'time(6)', 'time(0)'],
    my: ['time(3)', 'time(6)', 'time(0)'],
    values: same(['00:00:00', '12:34:56', '23:59:59', null]),
  },
  {
    name: 'time at 3 and 6 digits',
    pg: ['time(3)', 'time(6)'],
    my: ['time(3)', 'time(6)'],
    values: same(['12:34:56.5', '12:34:56.12', '12:34:56.123', '00:00:00.001', null]),
  },
  {
    name: 'timestamp(6)',
    pg: ['timestamp(6)'],
    my: ['datetime(6)'],
    values: [
      e('0001-01-01 00:00:00', '0001-01-01 00:00:00'),
      e('1970-01-01 00:00:00', '1970-01-01 00:00:00'),
      e('2024-01-02 03:04:05.12', '2024-01-02 03:04:05.12'),
      e('2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123456'),
      e('2024-01-02 03:04:05.000001', '2024-01-02 03:04:05.000001'),
      e('2024-01-02 03:04:00', '2024-01-02 03:04:00'),
      e('2000-02-29 12:00:00.5', '2000-02-29 12:00:00.5'),
      e('9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999999'),
      e(null, null),
    ],
  },
  {
    name: 'timestamp at 3 and 6 digits',
    pg: ['timestamp(3)', 'timestamp(6)'],
    my: ['datetime(3)', 'datetime(6)'],
    values: same(['2024-01-02 03:04:05.12', '2024-01-02 03:04:05', '2024-01-02 03:04:05.001', '1999-12-31 23:59:59.999', null]),
  },
  {
    // PostgreSQL gets offsets, MariaDB the same instants in UTC (as sluice writes them).
    name: 'timestamptz',
    pg: ['timestamptz(6)'],
    my: ['timestamp(6) NULL', 'datetime(6)'],
    values: [
      e('2024-01-02 03:04:05.123456+05:30', '2024-01-01 21:34:05.123456', '2024-01-01 21:34:05.123456'),
      e('1999-12-31 23:00:00-02', '2000-01-01 01:00:00', '2000-01-01 01:00:00'),
      e('2038-01-19 03:14:07.999999+00', '2038-01-19 03:14:07.999999', '2038-01-19 03:14:07.999999'),
      e('1970-01-01 00:00:01+00', '1970-01-01 00:00:01', '1970-01-01 00:00:01'),
      e('2024-06-30 12:00:00.5-09:30', '2024-06-30 21:30:00.5', '2024-06-30 21:30:00.5'),
      e(null, null),
    ],
  },
  {
    name: 'timestamptz beyond MariaDB TIMESTAMP',
    pg: ['timestamptz(6)'],
    my: ['datetime(6)'],
    values: [
      e('0001-01-01 00:00:00+00', '0001-01-01 00:00:00', '0001-01-01 00:00:00'),
      e('9999-12-31 23:59:59.999999+00', '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999999'),
    ],
  },
];

// --- sessions and helpers ------------------------------------------------------------------------

const ID: Column = { name: 'id', type: { kind: 'int32' }, nullable: false };

/** A table's introspected column, read as `logical` when given (as reconcile reads a target). */
const asLogical = (v: Column, logical?: ColumnType): CanonicalColumn => (logical ? { ...v, logical } : v);

interface SideQuery {
  readonly family: 'pg' | 'mysql';
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** A hash or hash sum as text, whole (mysql2 would read an unsigned BIGINT as a lossy number). */
function asText(family: 'pg' | 'mysql', x: string): string {
  return family === 'pg' ? `(${x})::text` : `CAST(${x} AS CHAR)`;
}

/** Canonical text, row text and row hash of every row, by id; and the table's count and hash sum. */
async function readCanonical(s: SideQuery, table: string, v: CanonicalColumn) {
  const q = s.family === 'pg' ? (n: string) => `"${n}"` : (n: string) => `\`${n}\``;
  const text = canonicalColumnSql(s.family, v, `t.${q('v')}`);
  const row = canonicalRowSql(s.family, [ID, v], 't');
  const rows = await s.query<{ id: number; c: string | null; r: string; h: string }>(
    `SELECT t.${q('id')} AS id, ${text} AS c, ${row} AS r, ${asText(s.family, hash64Sql(s.family, row))} AS h FROM ${q(table)} t ORDER BY t.${q('id')}`,
  );
  const [sum] = await s.query<{ n: string | number; s: string }>(
    `SELECT count(*) AS n, ${asText(s.family, `sum(${hash64Sql(s.family, row)})`)} AS s FROM ${q(table)} t`,
  );
  return { rows, count: Number(sum!.n), sum: mod64(sum!.s) };
}

function jsSum(texts: readonly string[]): bigint {
  return BigInt.asUintN(
    64,
    texts.reduce((a, t) => a + hash64(t), 0n),
  );
}

describe('hash64 and mod64', () => {
  test('hash64 is the first 8 bytes of the md5 of the UTF-8 text, unsigned', () => {
    assert.equal(hash64(''), 0xd41d8cd98f00b204n); // md5('') = d41d8cd98f00b204e9800998ecf8427e
    assert.equal(hash64('a'), 0x0cc175b9c0f1b6a8n);
    assert.equal(hash64('é'), 0x66ddcd97cfdeabb2n); // bytes c3 a9
  });

  test('mod64 reduces signed, unsigned and summed values alike', () => {
    assert.equal(mod64('-1'), 2n ** 64n - 1n);
    assert.equal(mod64(-1n), 2n ** 64n - 1n);
    assert.equal(mod64('18446744073709551615'), 2n ** 64n - 1n);
    assert.equal(mod64('36893488147419103233'), 1n); // 2 * 2^64 + 1, a MariaDB DECIMAL sum
    assert.equal(mod64('-18446744073709551617'), 2n ** 64n - 1n);
    assert.equal(mod64('42.000'), 42n);
    assert.throws(() => mod64('1.5'), TypeError);
    assert.throws(() => mod64('abc'), TypeError);
  });

  test('row SQL of no columns is the empty text', () => {
    assert.equal(canonicalRowSql('pg', []), "''");
    assert.equal(canonicalRowSql('mysql', []), "''");
  });
});

describe('canonical text across PostgreSQL and MariaDB', { skip: skipUnless(pgUp, POSTGRES_WHAT) || skipUnless(myUp, MYSQL_WHAT) }, () => {
  let pgDb: ScratchPostgres;
  let myDb: ScratchMysql;
  let pgClient: pg.PoolClient;
  let myConn: PoolConnection;
  let pgSide: SideQuery;
  let mySide: SideQuery;

  before(async () => {
    pgDb = await scratchPostgres({ max: 2 });
    myDb = await scratchMysql({ connectionLimit: 2 });
    pgClient = await pgDb.pool.connect();
    myConn = await myDb.pool.getConnection();
    pgSide = { family: 'pg', query: async <T>(sql: string, params: unknown[] = []) => (await pgClient.query(sql, params)).rows as T[] };
    mySide = { family: 'mysql', query: async <T>(sql: string, params: unknown[] = []) => (await myConn.query(sql, params))[0] as T[] };
    // Values go in under the servers' defaults (MariaDB TIMESTAMP in UTC, as sluice writes it);
    // they are read under hostile settings that the canonical session statements must override.
    await myConn.query("SET time_zone = '+00:00'");
    await pgClient.query("SET TimeZone = 'Asia/Kolkata'");
    for (const [i, c] of CASES.entries()) {
      for (const [j, type] of c.pg.entries()) {
        const name = `c${i}_p${j}`;
        await pgClient.query(`CREATE TABLE "${name}" (id integer PRIMARY KEY, v ${type})`);
        for (let k = 0; k < c.values.length; k += 500) {
          const chunk = c.values.slice(k, k + 500);
          await pgClient.query(
            `INSERT INTO "${name}" (id, v) VALUES ${chunk.map((_, n) => `($${2 * n + 1}, $${2 * n + 2})`).join(', ')}`,
            chunk.flatMap((x, n) => [k + n, x.pg]),
          );
        }
      }
      for (const [j, type] of c.my.entries()) {
        const name = `c${i}_m${j}`;
        const nullable = type.endsWith(' NULL') ? type : `${type} NULL`;
        await myConn.query(`CREATE TABLE \`${name}\` (id int PRIMARY KEY, v ${nullable})`);
        for (let k = 0; k < c.values.length; k += 500) {
          const chunk = c.values.slice(k, k + 500);
          await myConn.query(`INSERT INTO \`${name}\` (id, v) VALUES ?`, [chunk.map((x, n) => [k + n, x.my === undefined ? x.pg : x.my])]);
        }
      }
    }
    await pgClient.query("SET DateStyle = 'SQL, DMY'; SET extra_float_digits = 0; SET TimeZone = 'America/St_Johns'");
    await myConn.query("SET time_zone = '-07:00'");
    for (const s of canonicalSessionSql('pg')) await pgClient.query(s);
    for (const s of canonicalSessionSql('mysql')) await myConn.query(s);
  });

  after(async () => {
    pgClient?.release();
    myConn?.release();
    await pgDb?.drop();
    await myDb?.drop();
  });

  for (const [i, c] of CASES.entries()) {
    test(`${c.name}: equal values give equal text and hashes on every table (${c.values.length} values)`, async () => {
      const tables: Array<{ label: string; side: SideQuery; name: string }> = [
        ...c.pg.map((type, j) => ({ label: `PostgreSQL ${type}`, side: pgSide, name: `c${i}_p${j}` })),
        ...c.my.map((type, j) => ({ label: `MariaDB ${type}`, side: mySide, name: `c${i}_m${j}` })),
      ];
      let reference: { label: string; texts: (string | null)[]; rowTexts: string[]; sum: bigint } | undefined;
      for (const t of tables) {
        const conn =
          t.side.family === 'pg'
            ? { dialect: 'postgres' as const, connection: pgClient }
            : { dialect: 'mysql' as const, connection: myConn };
        const v = asLogical(
          (await introspect(conn, { name: t.name })).columns.find((col) => col.name === 'v')!,
          c.logical,
        );
        const got = await readCanonical(t.side, t.name, v);
        assert.equal(got.count, c.values.length, t.label);
        const texts = got.rows.map((r) => r.c);
        const rowTexts = got.rows.map((r) => r.r);
        // Each row's hash in the database is hash64 of its row text, and the sum is their sum.
        got.rows.forEach((r) => assert.equal(mod64(r.h), hash64(r.r), `${t.label}: hash of ${JSON.stringify(r.r)}`));
        assert.equal(got.sum, jsSum(rowTexts), t.label);
        const prefixed = (v.logical ?? v.type).kind === 'string';
        c.values.forEach((x, k) => {
          if (x.text === undefined) return;
          assert.equal(texts[k], x.text, `${t.label}: text of ${JSON.stringify(x.pg)}`);
          const field = x.text === null ? '\\N' : prefixed ? `${[...x.text].length}:${x.text}` : x.text;
          assert.equal(rowTexts[k], `${k}|${field}`, `${t.label}: row text of ${JSON.stringify(x.pg)}`);
        });
        if (!reference) {
          reference = { label: t.label, texts, rowTexts, sum: got.sum };
          continue;
        }
        for (let k = 0; k < texts.length; k++) {
          assert.equal(texts[k], reference.texts[k], `${t.label} vs ${reference.label}: value ${JSON.stringify(c.values[k]!.pg)}`);
        }
        assert.deepEqual(rowTexts, reference.rowTexts, `${t.label} vs ${reference.label}: row texts`);
        assert.equal(got.sum, reference.sum, `${t.label} vs ${reference.label}: hash sums`);
      }
    });
  }

  test('distinct values give distinct texts (PostgreSQL reference tables)', async () => {
    for (const [i, c] of CASES.entries()) {
      const table = `c${i}_p0`;
      const v = asLogical(
        (await introspect({ dialect: 'postgres', connection: pgClient }, { name: table })).columns.find((col) => col.name === 'v')!,
        c.logical,
      );
      // JSON is compared by value: jsonb equality is that (1.0 = 1, key order and whitespace aside).
      const kind = (v.logical ?? v.type).kind;
      const value = kind === 'json' ? 'v::jsonb' : kind === 'uuid' ? 'v::uuid' : 'v';
      const [r] = await pgSide.query<{ dv: number; dc: number }>(
        `SELECT count(DISTINCT ${value})::int AS dv, count(DISTINCT ${canonicalColumnSql('pg', v, 'v')})::int AS dc FROM "${table}"`,
      );
      assert.equal(r!.dc, r!.dv, c.name);
    }
  });

  test('NULL, empty strings and separators inside values never make two rows alike', async () => {
    const rows: Array<[string | null, string | null, number | null]> = [
      ['a', null, 1],
      [null, 'a', 1],
      ['', null, 1],
      [null, '', 1],
      ['', '', 1],
      [null, null, 1],
      ['a|', '', 1],
      ['a', '|', 1],
      ['\\N', null, 1],
      [null, '\\N', 1],
      ['\\N', '\\N', 1],
      ['1:a', '', 1],
      ['1', ':a', 1],
      ['a|1', null, null],
      ['a', '1|', null],
      ['a', null, null],
      [null, 'a', null],
      ['2:ab', null, 1],
      ['ab', null, 1],
      ['|', '|', null],
      ['', '||', null],
      ['a', '', 1],
      ['a', '', null],
    ];
    await pgClient.query('CREATE TABLE amb (id integer PRIMARY KEY, a text, b text, n integer)');
    await myConn.query('CREATE TABLE amb (id int PRIMARY KEY, a longtext, b varchar(10), n int)');
    for (const [k, r] of rows.entries()) {
      await pgClient.query('INSERT INTO amb VALUES ($1, $2, $3, $4)', [k, ...r]);
      await myConn.query('INSERT INTO amb VALUES (?, ?, ?, ?)', [k, ...r]);
    }
    const texts: string[][] = [];
    for (const [side, dialect] of [
      [pgSide, 'postgres'],
      [mySide, 'mysql'],
    ] as const) {
      const conn = dialect === 'postgres' ? { dialect, connection: pgClient } : { dialect, connection: myConn };
      // Without the id, so that only the value columns can tell rows apart.
      const cols = (await introspect(conn, { name: 'amb' })).columns.filter((col) => col.name !== 'id');
      const row = canonicalRowSql(side.family, cols);
      const got = await side.query<{ r: string; h: string }>(
        `SELECT ${row} AS r, ${asText(side.family, hash64Sql(side.family, row))} AS h FROM amb ORDER BY id`,
      );
      assert.equal(new Set(got.map((g) => g.r)).size, rows.length, `${dialect}: row texts ${JSON.stringify(got.map((g) => g.r))}`);
      assert.equal(new Set(got.map((g) => mod64(g.h))).size, rows.length, `${dialect}: row hashes`);
      texts.push(got.map((g) => g.r));
    }
    assert.deepEqual(texts[1], texts[0]);
    assert.equal(texts[0]![0], '1:a|\\N|1');
    assert.equal(texts[0]![5], '\\N|\\N|1');
    assert.equal(texts[0]![6], '2:a||0:|1');
  });

  test('a planted one-unit difference changes the text and the hash', async () => {
    // Each row holds one pair: the PostgreSQL value and a MariaDB value that differs by one unit
    // (or, in row 0, every value equal as a control).
    const pairs: Array<[string, string, string, Val, Val]> = [
      ['d', 'numeric(20,10)', 'decimal(20,10)', '1.2345678901', '1.2345678900'],
      ['d', 'numeric(20,10)', 'decimal(20,10)', '-0.0000000001', '0'],
      ['ts', 'timestamp(6)', 'datetime(6)', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123457'],
      ['ts', 'timestamp(6)', 'datetime(6)', '2024-01-02 03:04:05', '2024-01-02 03:04:05.000001'],
      ['tz', 'timestamptz(6)', 'timestamp(6) NULL', '2024-01-02 03:04:05.5+00', '2024-01-02 03:04:05.500001'],
      ['tm', 'time(6)', 'time(6)', '12:00:00', '12:00:00.000001'],
      ['dt', 'date', 'date', '2024-02-28', '2024-02-29'],
      ...[0.1, 1e23, 87101021409035008, 5e-324, 1e-5, -1e15, 123456789.123].map((x): [string, string, string, Val, Val] => [
        'f',
        'double precision',
        'double',
        String(x),
        String(nextUp(x)),
      ]),
      ['r', 'real', 'float', '0.5', String(Math.fround(0.5 + 2 ** -24))],
      ['s', 'text', 'longtext', 'Abc', 'abc'],
      ['s', 'text', 'longtext', 'abc', 'abc '],
      ['s', 'text', 'longtext', '', null],
      ['s', 'text', 'longtext', 'e\u0301', 'é'],
      // JSON: equal by value only; a digit, a type, array order, a key's case, a null member differ.
      ['j', 'json', 'json', '{"a":1}', '{"a": 1.5}'],
      ['j', 'json', 'json', '{"a":1}', '{"a":"1"}'],
      ['j', 'json', 'json', '{"a":[1,2]}', '{"a":[2,1]}'],
      ['j', 'json', 'json', '{"a":1}', '{"A":1}'],
      ['j', 'json', 'json', '{"a":null}', '{}'],
      ['j', 'json', 'json', '1', '1.0000000000000001'], // equal as doubles, not as numbers
      ['j', 'json', 'json', '{"a":"x"}', '{"a":"x "}'],
      ['b', 'bytea', 'longblob', '\\x00ff', Buffer.from('00fe', 'hex')],
      ['b', 'bytea', 'longblob', '\\x', Buffer.from('00', 'hex')],
      ['u', 'uuid', 'uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'],
      ['i', 'bigint', 'bigint', '9223372036854775807', '9223372036854775806'],
      ['o', 'boolean', 'tinyint(1)', 'true', 0],
    ];
    const cols = [...new Map(pairs.map(([n, p, m]) => [n, [p, m]])).entries()];
    await pgClient.query(`CREATE TABLE planted (id integer PRIMARY KEY, ${cols.map(([n, [p]]) => `${n} ${p}`).join(', ')})`);
    await myConn.query(
      `CREATE TABLE planted (id int PRIMARY KEY, ${cols.map(([n, [, m]]) => `${n} ${m!.endsWith(' NULL') ? m : `${m} NULL`}`).join(', ')})`,
    );
    // Row 0: every column holds the pair's first value on both sides (MariaDB TIMESTAMP in UTC).
    const control: Record<string, [Val, Val]> = {};
    for (const [n, , , a] of pairs)
      control[n] ??= [a, n === 'tz' ? '2024-01-02 03:04:05.5' : n === 'b' ? Buffer.from('00ff', 'hex') : n === 'o' ? 1 : a];
    const insert = async (id: number, values: Record<string, [Val, Val]>) => {
      const names = Object.keys(values);
      await pgClient.query(`INSERT INTO planted (id, ${names.join(', ')}) VALUES ($1, ${names.map((_, k) => `$${k + 2}`).join(', ')})`, [
        id,
        ...names.map((n) => values[n]![0]),
      ]);
      await myConn.query(`INSERT INTO planted (id, ${names.join(', ')}) VALUES (?, ${names.map(() => '?').join(', ')})`, [
        id,
        ...names.map((n) => values[n]![1]),
      ]);
    };
    await insert(0, control);
    for (const [k, [n, , , a, b]] of pairs.entries()) await insert(k + 1, { [n]: [a, b] });

    const read = async (side: SideQuery, dialect: 'postgres' | 'mysql') => {
      const conn = dialect === 'postgres' ? { dialect, connection: pgClient } : { dialect, connection: myConn };
      const columns = (await introspect(conn, { name: 'planted' })).columns;
      const row = canonicalRowSql(side.family, columns, 't');
      return side.query<{ r: string; h: string }>(
        `SELECT ${row} AS r, ${asText(side.family, hash64Sql(side.family, row))} AS h FROM planted t ORDER BY id`,
      );
    };
    const p = await read(pgSide, 'postgres');
    const m = await read(mySide, 'mysql');
    assert.equal(m[0]!.r, p[0]!.r, 'control row');
    assert.equal(mod64(m[0]!.h), mod64(p[0]!.h), 'control row hash');
    for (const [k, pair] of pairs.entries()) {
      assert.notEqual(m[k + 1]!.r, p[k + 1]!.r, `${JSON.stringify(pair)}`);
      assert.notEqual(mod64(m[k + 1]!.h), mod64(p[k + 1]!.h), `${JSON.stringify(pair)}: hash`);
    }
  });

  test('JSON compares by value: key order, whitespace and number spelling do not change the text', async () => {
    await pgClient.query(`CREATE TABLE jb (id integer PRIMARY KEY, v jsonb, w json); INSERT INTO jb VALUES
      (1, '{"b":1,"a":[1.0, 1e2]}', '{"b":1,"a":[1.0, 1e2]}'), (2, '{"a": [1, 100], "b": 1.00}', '{ "a" : [ 1 , 100 ] , "b" : 1.00 }')`);
    const j: Column = { name: 'v', type: { kind: 'json' }, nullable: true };
    const got = await pgSide.query<{ v: string; w: string }>(
      `SELECT ${canonicalColumnSql('pg', j, 'v')} AS v, ${canonicalColumnSql('pg', j, 'w')} AS w FROM jb ORDER BY id`,
    );
    assert.deepEqual(
      got.map((g) => [g.v, g.w]),
      Array(2).fill(Array(2).fill('{"a":[1.0E0,1.0E2],"b":1.0E0}')),
    );
  });

  test('MariaDB: JSON in a text column that is not JSON is neither NULL nor any document', async () => {
    const j: CanonicalColumn = { name: 'v', type: { kind: 'string' }, nullable: true, logical: { kind: 'json' } };
    const [r] = await mySide.query<{ a: string; b: string | null; c: string }>(
      `SELECT ${canonicalColumnSql('mysql', j, "'{oops'")} AS a, ${canonicalColumnSql('mysql', j, 'NULL')} AS b, ${canonicalColumnSql('mysql', j, "'[1]'")} AS c`,
    );
    assert.deepEqual({ ...r }, { a: '!5:{oops', b: null, c: '[1.0E0]' });
  });

  test('MariaDB tinyint(1) other than 0 and 1 is true', async () => {
    const v: Column = { name: 'v', type: { kind: 'boolean' }, nullable: true };
    const [r] = await mySide.query<{ a: string; b: string; c: string | null }>(
      `SELECT ${canonicalColumnSql('mysql', v, '2')} AS a, ${canonicalColumnSql('mysql', v, '-1')} AS b, ${canonicalColumnSql('mysql', v, 'NULL')} AS c`,
    );
    assert.deepEqual({ ...r }, { a: '1', b: '1', c: null });
  });
});

describe('canonical text on PGlite', () => {
  let db: PGlite;
  before(async () => {
    db = await PGlite.create();
  });
  after(async () => db?.close());

  test('the PostgreSQL expressions give the same text and hashes on PGlite', async () => {
    await db.exec(`
      SET DateStyle = 'SQL, DMY'; SET extra_float_digits = 0; SET TimeZone = 'Asia/Kolkata';
      CREATE TABLE t (id integer PRIMARY KEY, b boolean, i bigint, d numeric(12,4), f double precision, r real, s text, j json,
        by bytea, u uuid, dt date, tm time(6), ts timestamp(3), tz timestamptz(6));
      INSERT INTO t VALUES
        (1, true, -9223372036854775808, 1.5, 1e23, 0.1, 'é|😀', '{"a":1}', '\\x00ff', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
         '0001-01-01', '12:34:56.5', '2024-01-02 03:04:05.12', '2024-01-02 03:04:05.123456+05:30'),
        (2, NULL, NULL, NULL, '-0', NULL, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (3, false, 0, 0.0000, 1e-5, 1e-45, NULL, NULL, '\\x', NULL, '9999-12-31', '00:00:00', '9999-12-31 23:59:59.999', '2024-01-02 00:00:00+00');`);
    for (const s of canonicalSessionSql('pg')) await db.query(s);
    const columns = (await introspect({ dialect: 'pglite', connection: db }, { name: 't' })).columns;
    const row = canonicalRowSql('pg', columns, 't');
    const got = await db.query<{ r: string; h: string }>(`SELECT ${row} AS r, (${hash64Sql('pg', row)})::text AS h FROM t ORDER BY id`);
    assert.deepEqual(
      got.rows.map((g) => g.r),
      [
        '1|1|-9223372036854775808|1.5|99999999999999991611392|0.10000000149011612|3:é|😀|{"a":1.0E0}|00ff|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|0001-01-01|12:34:56.5|2024-01-02 03:04:05.12|2024-01-01 21:34:05.123456',
        '2|\\N|\\N|\\N|0|\\N|0:|\\N|\\N|\\N|\\N|\\N|\\N|\\N',
        '3|0|0|0|1e-05|1.401298464324817e-45|\\N|\\N||\\N|9999-12-31|00:00:00|9999-12-31 23:59:59.999|2024-01-02 00:00:00',
      ],
    );
    for (const g of got.rows) assert.equal(mod64(g.h), hash64(g.r));
  });
});
