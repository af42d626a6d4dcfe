/**
 * PostgreSQL's text form of values, both ways, shared by node-postgres and PGlite (both speak the
 * text protocol): parsers by type OID that produce the portable representation without loss, and
 * the text PostgreSQL accepts for a portable value (COPY fields and text parameters).
 *
 * Why our own parsers: node-postgres' defaults turn timestamptz into a Date (microseconds lost) and
 * int8 into a string, PGlite's turn int8 into a number (precision lost beyond 2^53) and bytea into
 * a Uint8Array. PostgreSQL writes years before 1 as "0044-03-15 BC"; the portable form is the
 * astronomical year "-0043-03-15".
 */
import type { ColumnType, ColumnValue } from '../core/table-schema.js';
import { INT64_MAX, INT64_MIN, INT_RANGE, canonicalFloat32, checkValue, floatText } from '../core/portable-values.js';
import { DATE_RE, TIMESTAMPTZ_RE, TIMESTAMP_RE, canonicalFraction, formatDate, offsetSeconds, utcText } from '../core/temporal.js';

export const PG_OID = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  json: 114,
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

const PG_DATE_RE = /^(\d{4,})-(\d\d)-(\d\d)( BC)?$/;
const PG_TS_RE = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d{1,6})?([+-]\d\d(?::\d\d){0,2})?( BC)?$/;

/** "0044" + BC → -43; "2024" → 2024. */
function astronomicalYear(year: string, bc: string | undefined): number {
  return bc ? 1 - Number(year) : Number(year);
}

export function parsePgDate(text: string): string {
  const m = PG_DATE_RE.exec(text);
  if (!m) return text; // 'infinity' / '-infinity' have no portable form: passed through as text
  if (!m[4]) return text;
  return formatDate(astronomicalYear(m[1]!, m[4]), Number(m[2]), Number(m[3]));
}

export function parsePgTime(text: string): string {
  const dot = text.indexOf('.');
  return dot < 0 ? text : `${text.slice(0, dot)}${canonicalFraction(text.slice(dot))}`;
}

export function parsePgTimestamp(text: string): string {
  const m = PG_TS_RE.exec(text);
  if (!m || m[8]) return text;
  const date = m[9] ? formatDate(astronomicalYear(m[1]!, m[9]), Number(m[2]), Number(m[3])) : `${m[1]}-${m[2]}-${m[3]}`;
  return `${date}T${m[4]}:${m[5]}:${m[6]}${canonicalFraction(m[7])}`;
}

export function parsePgTimestamptz(text: string): string {
  const m = PG_TS_RE.exec(text);
  if (!m || !m[8]) return text;
  const frac = canonicalFraction(m[7]);
  // The common case (session TimeZone UTC, AD): rearrange the text, no arithmetic.
  if (m[8] === '+00' && !m[9]) return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${frac}Z`;
  return utcText(
    astronomicalYear(m[1]!, m[9]),
    Number(m[2]),
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6]),
    frac,
    offsetSeconds(m[8]),
  );
}

export function parsePgBytea(text: string): Buffer {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex');
  // bytea_output = escape: printable bytes as is, \\ for a backslash, \ooo octal for the rest.
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x5c) out.push(c);
    else if (text[i + 1] === '\\') {
      out.push(0x5c);
      i++;
    } else {
      out.push(parseInt(text.slice(i + 1, i + 4), 8));
      i += 3;
    }
  }
  return Buffer.from(out);
}

const identity = (text: string): string => text;

/** Text parsers by type OID giving portable values; for types not listed the driver's default. */
export const PG_TEXT_PARSERS: Readonly<Record<number, (text: string) => ColumnValue>> = {
  [PG_OID.bool]: (t) => t === 't' || t === 'true',
  [PG_OID.bytea]: parsePgBytea,
  [PG_OID.int8]: (t) => BigInt(t),
  [PG_OID.int2]: Number,
  [PG_OID.int4]: Number,
  [PG_OID.json]: identity,
  [PG_OID.jsonb]: identity,
  [PG_OID.float4]: (t) => canonicalFloat32(Number(t)),
  [PG_OID.float8]: Number,
  [PG_OID.numeric]: identity,
  [PG_OID.date]: parsePgDate,
  [PG_OID.time]: parsePgTime,
  [PG_OID.timestamp]: parsePgTimestamp,
  [PG_OID.timestamptz]: parsePgTimestamptz,
  [PG_OID.uuid]: identity,
};

// --- portable → PostgreSQL text ---------------------------------------------------------------

/** "-0043-03-15" → "0044-03-15 BC"; other dates unchanged. */
function bcDate(y: number, rest: string): string {
  return `${String(1 - y).padStart(4, '0')}${rest} BC`;
}

function pgDateText(v: string): string {
  if (v.charCodeAt(0) !== 0x2d /* - */ && !v.startsWith('0000')) return v;
  const m = DATE_RE.exec(v)!;
  return bcDate(Number(m[1]), `-${m[2]}-${m[3]}`);
}

function pgTimestampText(v: string): string {
  if (v.charCodeAt(0) !== 0x2d && !v.startsWith('0000')) return v;
  const m = TIMESTAMP_RE.exec(v)!;
  return bcDate(Number(m[1]), `-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}${m[7] ? `.${m[7]}` : ''}`);
}

function pgTimestamptzText(v: string): string {
  if (v.charCodeAt(0) !== 0x2d && !v.startsWith('0000')) return v;
  // v is canonical UTC ("…Z") after checkValue.
  const m = TIMESTAMPTZ_RE.exec(v)!;
  return bcDate(Number(m[1]), `-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}${m[7] ? `.${m[7]}` : ''}+00`);
}

const AD_DATE = /^(?!0000)\d{4}-\d\d-\d\d$/;
const AD_TIMESTAMP = /^(?!0000)\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,6})?$/;
const AD_TIMESTAMPTZ = /^(?!0000)\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d(?::?\d\d)?)$/;
const TIME = /^\d\d:\d\d:\d\d(?:\.\d{1,6})?$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;

export type PgTextEncoder = (value: unknown) => string | null;

/**
 * An encoder from a portable value of `type` to the text PostgreSQL's input function accepts
 * (null → null), for the hot path: it checks each value's shape (ValueError otherwise) without
 * rewriting what PostgreSQL reads as is; only years before 1 are rewritten ("-0043" → "0044 … BC").
 * Range and calendar validity are left to the server.
 */
export function pgTextEncoder(type: ColumnType): PgTextEncoder {
  const slow = (v: unknown): string | null => toPgTextChecked(type, v);
  switch (type.kind) {
    case 'boolean':
      return (v) => (v === true ? 't' : v === false ? 'f' : slow(v));
    case 'int16':
    case 'int32': {
      const [lo, hi] = INT_RANGE[type.kind];
      return (v) => (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi ? String(v) : slow(v));
    }
    case 'int64':
      return (v) => (typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX ? v.toString() : slow(v));
    case 'float32':
    case 'float64':
      return (v) => (typeof v === 'number' && v !== 0 ? String(v) : slow(v));
    case 'decimal': {
      const intDigits = type.precision - type.scale;
      return (v) => {
        if (typeof v !== 'string' || !DECIMAL.test(v)) return slow(v);
        const dot = v.indexOf('.');
        const sign = v.charCodeAt(0) === 45 || v.charCodeAt(0) === 43 ? 1 : 0;
        const ints = (dot < 0 ? v.length : dot) - sign;
        const fracs = dot < 0 ? 0 : v.length - dot - 1;
        return ints <= intDigits && fracs <= type.scale ? v : slow(v);
      };
    }
    case 'string':
      return (v) =>
        typeof v === 'string' && v.indexOf('\u0000') < 0 && (type.maxLength === undefined || v.length <= type.maxLength) ? v : slow(v);
    case 'json':
      return (v) => (typeof v === 'string' ? v : slow(v));
    case 'bytes':
      return (v) => (Buffer.isBuffer(v) ? `\\x${v.toString('hex')}` : slow(v));
    case 'uuid':
      return (v) => (typeof v === 'string' && UUID.test(v) ? v : slow(v));
    case 'date':
      return (v) => (typeof v === 'string' && AD_DATE.test(v) ? v : slow(v));
    case 'time':
      return (v) => (typeof v === 'string' && TIME.test(v) ? v : slow(v));
    case 'timestamp':
      return (v) => (typeof v === 'string' && AD_TIMESTAMP.test(v) ? v : slow(v));
    case 'timestamptz':
      return (v) => (typeof v === 'string' && AD_TIMESTAMPTZ.test(v) ? v : slow(v));
  }
}

/**
 * The text PostgreSQL's input function accepts for a portable value (null → null). Checks the
 * value's shape first (ValueError); range and calendar validity are left to the server.
 */
export function toPgText(type: ColumnType, value: unknown): string | null {
  return pgTextEncoder(type)(value);
}

function toPgTextChecked(type: ColumnType, value: unknown): string | null {
  const v = checkValue(type, value === undefined ? null : value);
  if (v === null) return null;
  switch (type.kind) {
    case 'boolean':
      return v ? 't' : 'f';
    case 'int16':
    case 'int32':
    case 'int64':
      return String(v);
    case 'float32':
    case 'float64':
      return floatText(v as number);
    case 'bytes':
      return `\\x${(v as Buffer).toString('hex')}`;
    case 'date':
      return pgDateText(v as string);
    case 'timestamp':
      return pgTimestampText(v as string);
    case 'timestamptz':
      return pgTimestamptzText(v as string);
    default:
      return v as string;
  }
}
