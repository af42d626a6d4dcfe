/**
 * The portable value representation of table-schema.ts, checked: one check per column type that
 * every side shares (capture input, key text, the dialects' parameters), canonical temporal text
 * (fraction of six digits or none, astronomical years; the arithmetic is in temporal.ts), exact
 * decimal text, and float32 canonicalisation.
 *
 * Every function here is pure; a value that does not fit throws ValueError with the reason, which
 * the capture API reports per field and the apply side turns into a dead letter naming the column.
 */
import type { ColumnType, ColumnValue } from './table-schema.js';
import {
  DATE_RE,
  TIMESTAMPTZ_RE,
  TIMESTAMP_RE,
  TIME_RE,
  canonicalFraction,
  dateToDays,
  formatDate,
  microsToTimestamp,
  offsetSeconds,
  timeToMicros,
  timestampToMicros,
  utcText,
} from './temporal.js';

export class ValueError extends Error {
  override readonly name = 'ValueError';
}

export function fail(message: string): never {
  throw new ValueError(message);
}

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const DIGITS_RE = /^-?\d+$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const INT_RANGE = { int16: [-32768, 32767], int32: [-2147483648, 2147483647] } as const;

// --- temporal text ----------------------------------------------------------------------------

/** Any accepted timestamptz text → canonical portable UTC text ("…Z"). */
export function canonicalTimestamptz(text: string): string {
  const m = TIMESTAMPTZ_RE.exec(text);
  if (!m) fail(`expected a timestamp with zone YYYY-MM-DDTHH:MM:SS[.ffffff]Z, got ${show(text)}`);
  return utcText(
    Number(m[1]),
    Number(m[2]),
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6]),
    canonicalFraction(m[7]),
    offsetSeconds(m[8]!),
  );
}

export function canonicalTimestamp(text: string): string {
  const m = TIMESTAMP_RE.exec(text);
  if (!m) fail(`expected a timestamp without zone YYYY-MM-DDTHH:MM:SS[.ffffff], got ${show(text)}`);
  return `${formatDate(Number(m[1]), Number(m[2]), Number(m[3]))}T${m[4]}:${m[5]}:${m[6]}${canonicalFraction(m[7])}`;
}

export function canonicalTime(text: string): string {
  const m = TIME_RE.exec(text);
  if (!m) fail(`expected a time HH:MM:SS[.ffffff], got ${show(text)}`);
  return `${m[1]}:${m[2]}:${m[3]}${canonicalFraction(m[4])}`;
}

export function canonicalDate(text: string): string {
  const m = DATE_RE.exec(text);
  if (!m) fail(`expected a date YYYY-MM-DD, got ${show(text)}`);
  return formatDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

// --- numbers ----------------------------------------------------------------------------------

/** The shortest decimal that float32-rounds to the same value: 0.1f reads as 0.1 on every dialect. */
export function canonicalFloat32(n: number): number {
  if (!Number.isFinite(n) || n === 0) return n;
  const f = Math.fround(n);
  for (let p = 1; p <= 9; p++) {
    const c = Number(f.toPrecision(p));
    if (Math.fround(c) === f) return c;
  }
  return f;
}

/** Number text that keeps -0 (String(-0) is "0"). */
export function floatText(n: number): string {
  return Object.is(n, -0) ? '-0' : String(n);
}

const DECIMAL_RE = /^([+-])?(\d*)(?:\.(\d*))?$/;

/** The text of a decimal given as text, a bigint or a number whose text has no exponent. */
export function decimalText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  return typeof v === 'number' && Number.isFinite(v) && !/e/i.test(String(v)) ? String(v) : undefined;
}

/** "-12.5" at scale 2 → -1250n; undefined when the text is not a decimal or needs rounding. */
export function decimalToUnscaled(text: string, scale: number): bigint | undefined {
  const m = DECIMAL_RE.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  let frac = m[3] ?? '';
  if (frac.length > scale) {
    if (!/^0*$/.test(frac.slice(scale))) return undefined; // would lose digits: refuse, never round
    frac = frac.slice(0, scale);
  }
  const digits = `${m[2] || '0'}${frac.padEnd(scale, '0')}`;
  const n = BigInt(digits);
  return m[1] === '-' ? -n : n;
}

export function unscaledToDecimal(n: bigint, scale: number): string {
  const neg = n < 0n;
  const digits = (neg ? -n : n).toString().padStart(scale + 1, '0');
  const body = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return neg ? `-${body}` : body;
}

export function digitCount(n: bigint): number {
  return (n < 0n ? -n : n).toString().length;
}

/** Canonical decimal text at a scale ("1.5" at scale 3 → "1.500"); used for keys. */
export function decimalAtScale(text: string, scale: number): string {
  const neg = text.startsWith('-');
  const [int = '', frac = ''] = text.replace(/^[+-]/, '').split('.');
  const i = int.replace(/^0+(?=\d)/, '') || '0';
  const f = frac.slice(0, scale).padEnd(scale, '0');
  const body = scale > 0 ? `${i}.${f}` : i;
  return neg && /[1-9]/.test(body) ? `-${body}` : body;
}

// --- one check per kind -----------------------------------------------------------------------

export interface CheckOptions {
  /**
   * The value is one an application hands over (a JSON body, an SDK call, an outbox row), where it
   * enters the pipeline. It may then also take the forms JSON carries (a digit string for an
   * integer, "NaN"/"Infinity", base64 text for bytes, an object for json, a Date for date and
   * timestamptz, a decimal with spaces around it), and it is checked in full: a real calendar date
   * and time of day, the string's length, the JSON text. Without it the value is one the pipeline
   * produced, and range and calendar validity are left to the target server, whose limits (year
   * 294276 for PostgreSQL timestamps) are not those of the epoch arithmetic.
   */
  readonly fromApplication?: boolean;
}

/**
 * The portable value for `type` from `v`, checked: the JS shape the type allows (a few lossless
 * alternatives are accepted: a safe-integer number or digit string for int64, a number for a
 * decimal), canonical temporal text. Throws ValueError.
 */
export function checkValue(type: ColumnType, v: unknown, opts: CheckOptions = {}): ColumnValue {
  if (v === null) return null;
  const app = opts.fromApplication === true;
  switch (type.kind) {
    case 'boolean':
      if (typeof v !== 'boolean') fail(`expected a boolean, got ${show(v)}`);
      return v;
    case 'int16':
    case 'int32': {
      const n = typeof v === 'bigint' || (app && typeof v === 'string' && DIGITS_RE.test(v)) ? Number(v) : v;
      const [lo, hi] = INT_RANGE[type.kind];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < lo || n > hi)
        fail(`expected an integer from ${lo} to ${hi} (${type.kind}), got ${show(v)}`);
      return n;
    }
    case 'int64': {
      let n: bigint | undefined;
      if (typeof v === 'bigint') n = v;
      else if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
      else if (typeof v === 'string' && DIGITS_RE.test(v)) n = BigInt(v);
      if (n === undefined || n < INT64_MIN || n > INT64_MAX)
        fail(`expected a 64-bit integer (number up to 2^53, or a string of digits), got ${show(v)}`);
      return n;
    }
    case 'float32':
    case 'float64':
      if (typeof v === 'number') return v;
      if (app && (v === 'NaN' || v === 'Infinity' || v === '-Infinity')) return Number(v);
      fail(`expected a number, got ${show(v)}`);
    // eslint-disable-next-line no-fallthrough
    case 'decimal': {
      const text = app && typeof v === 'string' ? v.trim() : decimalText(v);
      if (text === undefined) fail(`expected a decimal as a string, got ${show(v)}`);
      const unscaled = decimalToUnscaled(text, type.scale);
      if (unscaled === undefined) fail(`expected a decimal with at most ${type.scale} digits after the point, got ${show(v)}`);
      if (digitCount(unscaled) > type.precision) fail(`${show(v)} does not fit decimal(${type.precision},${type.scale})`);
      return text;
    }
    case 'string':
      if (typeof v !== 'string') fail(`expected a string, got ${show(v)}`);
      if (app && type.maxLength !== undefined && [...v].length > type.maxLength)
        fail(`is ${[...v].length} characters, the column holds ${type.maxLength}`);
      if (v.includes('\u0000')) fail('contains a NUL character, which the databases cannot store in text');
      return v;
    case 'json':
      if (typeof v === 'string') {
        if (app) {
          try {
            JSON.parse(v);
          } catch {
            fail(`expected JSON text (or a JSON object/array), got ${show(v)}`);
          }
        }
        return v;
      }
      if (app) return JSON.stringify(v);
      fail(`expected JSON text, got ${show(v)}`);
    // eslint-disable-next-line no-fallthrough
    case 'bytes':
      if (Buffer.isBuffer(v)) return v;
      // A copy: the caller may reuse its array once the value is handed over.
      if (v instanceof Uint8Array) return Buffer.from(v);
      if (app && typeof v === 'string' && BASE64_RE.test(v) && v.length % 4 === 0) return Buffer.from(v, 'base64');
      fail(`expected bytes (a Buffer${app ? ', or base64 text' : ''}), got ${show(v)}`);
    // eslint-disable-next-line no-fallthrough
    case 'uuid':
      if (typeof v !== 'string' || !UUID_RE.test(v)) fail(`expected a UUID, got ${show(v)}`);
      return v.toLowerCase();
    case 'date': {
      const s = app && v instanceof Date ? v.toISOString().slice(0, 10) : v;
      if (typeof s !== 'string' || (app && dateToDays(s) === undefined)) fail(`expected a date YYYY-MM-DD, got ${show(v)}`);
      return canonicalDate(s);
    }
    case 'time':
      if (typeof v !== 'string' || (app && timeToMicros(v) === undefined)) fail(`expected a time HH:MM:SS[.ffffff], got ${show(v)}`);
      return canonicalTime(v);
    case 'timestamp': {
      if (typeof v === 'string' && !app) return canonicalTimestamp(v);
      // From an application the instant is computed (refusing what is not one) and written back.
      const us = typeof v === 'string' ? timestampToMicros(v, false) : undefined;
      if (us === undefined) fail(`expected a timestamp without zone YYYY-MM-DDTHH:MM:SS[.ffffff], got ${show(v)}`);
      return microsToTimestamp(us, false);
    }
    case 'timestamptz': {
      if (typeof v === 'string' && !app) return canonicalTimestamptz(v);
      const us = !app
        ? undefined
        : v instanceof Date
          ? BigInt(v.getTime()) * 1000n
          : typeof v === 'string'
            ? timestampToMicros(v, true)
            : undefined;
      if (us === undefined) fail(`expected a timestamp with a zone YYYY-MM-DDTHH:MM:SS[.ffffff]Z (or +01:00), got ${show(v)}`);
      return microsToTimestamp(us, true);
    }
  }
}

export function show(v: unknown, max = 60): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  if (v === undefined) return 'undefined';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > max ? `${s.slice(0, max - 3)}...` : s;
}
