/**
 * Dialect-neutral helpers for the portable value representation of core/table-schema.ts: checking a
 * value has the one JavaScript shape its column type allows, canonical temporal text (fraction of
 * six digits or none, astronomical years), calendar arithmetic without Date (years beyond ±9999
 * and before year 1 occur), and float32 canonicalisation.
 *
 * Every function here is pure; a value that does not fit throws ValueError with the reason, which
 * the apply side turns into a dead letter naming the column.
 */
import type { ColumnType, ColumnValue } from '../core/table-schema.js';

export class ValueError extends Error {
  override readonly name = 'ValueError';
}

export function fail(message: string): never {
  throw new ValueError(message);
}

export const DATE_RE = /^(-?\d{4,})-(\d\d)-(\d\d)$/;
export const TIME_RE = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/;
/** A timestamp without zone; `T` or a space between date and time. */
export const TIMESTAMP_RE = /^(-?\d{4,})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/;
/** A timestamp with a zone: `Z` or an offset `±HH`, `±HHMM`, `±HH:MM`. */
export const TIMESTAMPTZ_RE = /^(-?\d{4,})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d(?::?\d\d)?)$/;
const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
export const MICROS_PER_DAY = 86_400_000_000n;

// --- calendar ---------------------------------------------------------------------------------

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d];
}

/** Astronomical year as portable text: 0044, 12345, 0000 (1 BC), -0043 (44 BC). */
export function formatYear(y: number): string {
  return y < 0 ? `-${String(-y).padStart(4, '0')}` : String(y).padStart(4, '0');
}

export function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export function formatDate(y: number, m: number, d: number): string {
  return `${formatYear(y)}-${pad2(m)}-${pad2(d)}`;
}

/** '' for no fraction or zero, else a dot and exactly six digits. */
export function canonicalFraction(frac: string | undefined): string {
  if (!frac) return '';
  const digits = frac.startsWith('.') ? frac.slice(1) : frac;
  if (/^0*$/.test(digits)) return '';
  return `.${digits.padEnd(6, '0')}`;
}

/** Offset text (`Z`, `+05`, `-0330`, `+05:30`, `+00:09:21`) in seconds east of UTC. */
export function offsetSeconds(zone: string): number {
  if (zone === 'Z') return 0;
  const m = /^([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?$/.exec(zone);
  if (!m) fail(`invalid zone offset "${zone}"`);
  const s = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? -s : s;
}

/** Portable UTC text of an instant given as civil fields and an offset. */
export function utcText(y: number, mo: number, d: number, h: number, mi: number, s: number, frac: string, offsetSecs: number): string {
  if (offsetSecs === 0) return `${formatDate(y, mo, d)}T${pad2(h)}:${pad2(mi)}:${pad2(s)}${frac}Z`;
  let secs = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offsetSecs;
  const days = Math.floor(secs / 86400);
  secs -= days * 86400;
  const [yy, mm, dd] = civilFromDays(days);
  return `${formatDate(yy, mm, dd)}T${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor((secs % 3600) / 60))}:${pad2(secs % 60)}${frac}Z`;
}

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

export function int64Of(v: unknown): bigint {
  let n: bigint | undefined;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
  else if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) n = BigInt(v);
  if (n === undefined) fail(`expected a 64-bit integer (bigint), got ${show(v)}`);
  if (n < INT64_MIN || n > INT64_MAX) fail(`${n} is outside the 64-bit integer range`);
  return n;
}

const INT_RANGE = { int16: [-32768, 32767], int32: [-2147483648, 2147483647] } as const;

export function intOf(kind: 'int16' | 'int32', v: unknown): number {
  const n = typeof v === 'bigint' ? Number(v) : v;
  const [lo, hi] = INT_RANGE[kind];
  if (typeof n !== 'number' || !Number.isInteger(n)) fail(`expected an integer, got ${show(v)}`);
  if (n < lo || n > hi) fail(`${n} is outside the ${kind} range ${lo}..${hi}`);
  return n;
}

export function decimalTextOf(v: unknown, precision?: number, scale?: number): string {
  const text =
    typeof v === 'string'
      ? v
      : typeof v === 'bigint'
        ? v.toString()
        : typeof v === 'number' && Number.isFinite(v) && !/e/i.test(String(v))
          ? String(v)
          : undefined;
  if (text === undefined || !DECIMAL_RE.test(text)) fail(`expected a decimal as text, got ${show(v)}`);
  if (precision !== undefined && scale !== undefined) {
    const [int = '', frac = ''] = text.replace(/^[+-]/, '').split('.');
    if (frac.length > scale && !/^0*$/.test(frac.slice(scale))) fail(`${text} has more than ${scale} digits after the point`);
    if (int.replace(/^0+/, '').length > precision - scale) fail(`${text} does not fit decimal(${precision},${scale})`);
  }
  return text;
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

/**
 * The portable value for `type` from `v`, checked: the JS shape the type allows (a few lossless
 * alternatives are accepted: a safe-integer number or digit string for int64, a number for a
 * decimal), canonical temporal text. Throws ValueError.
 */
export function checkValue(type: ColumnType, v: unknown): ColumnValue {
  if (v === null) return null;
  switch (type.kind) {
    case 'boolean':
      if (typeof v !== 'boolean') fail(`expected a boolean, got ${show(v)}`);
      return v;
    case 'int16':
    case 'int32':
      return intOf(type.kind, v);
    case 'int64':
      return int64Of(v);
    case 'float32':
    case 'float64':
      if (typeof v !== 'number') fail(`expected a number, got ${show(v)}`);
      return v;
    case 'decimal':
      return decimalTextOf(v, type.precision, type.scale);
    case 'string':
      if (typeof v !== 'string') fail(`expected a string, got ${show(v)}`);
      if (v.includes('\u0000')) fail('contains a NUL character, which the databases cannot store in text');
      return v;
    case 'json':
      if (typeof v !== 'string') fail(`expected JSON text, got ${show(v)}`);
      return v;
    case 'bytes':
      if (Buffer.isBuffer(v)) return v;
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      fail(`expected bytes (Buffer), got ${show(v)}`);
    // eslint-disable-next-line no-fallthrough
    case 'uuid':
      if (typeof v !== 'string' || !UUID_RE.test(v)) fail(`expected a UUID, got ${show(v)}`);
      return v.toLowerCase();
    case 'date':
      if (typeof v !== 'string') fail(`expected a date YYYY-MM-DD, got ${show(v)}`);
      return canonicalDate(v);
    case 'time':
      if (typeof v !== 'string') fail(`expected a time HH:MM:SS[.ffffff], got ${show(v)}`);
      return canonicalTime(v);
    case 'timestamp':
      if (typeof v !== 'string') fail(`expected a timestamp YYYY-MM-DDTHH:MM:SS[.ffffff], got ${show(v)}`);
      return canonicalTimestamp(v);
    case 'timestamptz':
      if (typeof v !== 'string') fail(`expected a timestamp YYYY-MM-DDTHH:MM:SS[.ffffff]Z, got ${show(v)}`);
      return canonicalTimestamptz(v);
  }
}

export function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  if (v === undefined) return 'undefined';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
