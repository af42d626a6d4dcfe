/**
 * avsc types for the Avro logical types sluice writes, mapping each to the lossless JavaScript
 * representation of src/core/table-schema.ts (strings for decimals and temporal values, bigint for
 * longs) so that numeric(38,10), int8 beyond 2^53 and timestamp microseconds survive the trip.
 *
 * avsc has no built-in decimal, timestamp-micros or other logical types of this kind, so sluice
 * defines them; avsc's contract for a logical type:
 * `_fromValue` (underlying → ours), `_toValue` (ours → underlying, `undefined` when the value does
 * not fit so unions can try their next branch), `_resolve(writer)` (a converter from the writer
 * type's values, or undefined when it cannot read them).
 */
import avro from 'avsc';

type Schema = Record<string, unknown>;
type AvscSchema = ConstructorParameters<typeof avro.types.LogicalType>[0];

const MICROS_PER_DAY = 86_400_000_000n;
const DAY_MS = 86_400_000;

/** Avro `long` as JavaScript bigint: no precision lost beyond 2^53. */
export const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.allocUnsafe(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (v: unknown) => BigInt(v as number | string),
  toJSON: (n: bigint) => (n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString()),
  isValid: (n: unknown) => typeof n === 'bigint' && n >= -(2n ** 63n) && n < 2n ** 63n,
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

function asBigint(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return undefined;
}

// --- decimal ------------------------------------------------------------------------------------

const DECIMAL_RE = /^([+-])?(\d*)(?:\.(\d*))?$/;

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

function digitCount(n: bigint): number {
  return (n < 0n ? -n : n).toString().length;
}

/** Two's-complement big-endian, minimal length: what Avro's decimal-on-bytes holds. */
export function bigintToTwosComplement(n: bigint): Buffer {
  let hex = (n < 0n ? -n - 1n : n).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let buf = Buffer.from(hex, 'hex');
  if (n < 0n) for (let i = 0; i < buf.length; i++) buf[i] = ~buf[i]! & 0xff;
  const signBitSet = buf.length > 0 && (buf[0]! & 0x80) !== 0;
  if (buf.length === 0 || signBitSet !== n < 0n) buf = Buffer.concat([Buffer.from([n < 0n ? 0xff : 0x00]), buf]);
  return buf;
}

export function twosComplementToBigint(buf: Buffer): bigint {
  if (buf.length === 0) return 0n;
  const n = BigInt(`0x${buf.toString('hex')}`);
  return buf[0]! & 0x80 ? n - (1n << BigInt(buf.length * 8)) : n;
}

export class DecimalType extends avro.types.LogicalType {
  readonly precision: number;
  readonly scale: number;

  constructor(schema: AvscSchema, opts?: unknown) {
    super(schema, opts);
    const attrs = schema as unknown as Schema;
    this.precision = Number(attrs.precision);
    this.scale = attrs.scale === undefined ? 0 : Number(attrs.scale);
  }

  protected override _fromValue(buf: Buffer): string {
    return unscaledToDecimal(twosComplementToBigint(buf), this.scale);
  }

  protected override _toValue(v: unknown): Buffer | undefined {
    const text =
      typeof v === 'string'
        ? v
        : typeof v === 'number' && Number.isFinite(v) && !/e/i.test(String(v))
          ? String(v)
          : typeof v === 'bigint'
            ? v.toString()
            : undefined;
    if (text === undefined) return undefined;
    const n = decimalToUnscaled(text, this.scale);
    if (n === undefined || digitCount(n) > this.precision) return undefined;
    return bigintToTwosComplement(n);
  }

  protected override _resolve(writer: avro.Type): ((v: unknown) => string) | undefined {
    if (writer instanceof DecimalType) {
      if (writer.scale === this.scale) return (v) => v as string;
      // Another scale: rescale the exact decimal text (refusing digits this scale cannot hold).
      return (v) => unscaledToDecimal(decimalToUnscaled(v as string, this.scale) ?? rescaleError(v, this.scale), this.scale);
    }
    if (writer.typeName === 'bytes') return (v) => this._fromValue(v as Buffer);
    return undefined;
  }

  protected override _export(attrs: AvscSchema): void {
    const a = attrs as unknown as Schema;
    a.precision = this.precision;
    a.scale = this.scale;
  }
}

function rescaleError(v: unknown, scale: number): never {
  throw new Error(`decimal ${String(v)} does not fit scale ${scale}`);
}

// --- date, time, timestamps ---------------------------------------------------------------------

const DATE_RE = /^(-?\d{4,})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;
const TS_RE = /^(-?\d{4,})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

function civilFromDays(days: number): string {
  const d = new Date(days * DAY_MS);
  const y = d.getUTCFullYear();
  const ys = y < 0 ? `-${String(-y).padStart(4, '0')}` : String(y).padStart(4, '0');
  return `${ys}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** JavaScript's Date range (±10^8 days), the bound dates always had here. */
const MAX_DAYS = 100_000_000;

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (year 0 exists), or undefined when it is not
 * a real date. Arithmetic (Howard Hinnant's days_from_civil) rather than a Date per value: this
 * runs for every date and timestamp the codec writes.
 */
function daysFromCivil(y: number, m: number, d: number): number | undefined {
  if (m < 1 || m > 12 || d < 1) return undefined;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (d > (m === 2 && leap ? 29 : MONTH_DAYS[m - 1]!)) return undefined;
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const days = era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
  return Math.abs(days) > MAX_DAYS ? undefined : days;
}

export function dateToDays(text: string): number | undefined {
  const m = DATE_RE.exec(text);
  return m ? daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3])) : undefined;
}

export function daysToDate(days: number): string {
  return civilFromDays(days);
}

function formatFrac(micros: bigint): string {
  return micros === 0n ? '' : `.${micros.toString().padStart(6, '0')}`;
}

export function timeToMicros(text: string): bigint | undefined {
  const m = TIME_RE.exec(text);
  if (!m) return undefined;
  const us = timeOfDayMicros(Number(m[1]), Number(m[2]), Number(m[3]), m[4]);
  return us === undefined ? undefined : BigInt(us);
}

/** Microseconds since midnight (a safe integer), or undefined when out of range. */
function timeOfDayMicros(h: number, mi: number, s: number, frac: string | undefined): number | undefined {
  const f = frac === undefined ? 0 : Number(frac.padEnd(6, '0'));
  // 24:00:00 is a valid PostgreSQL time (end of day).
  if (h > 24 || mi > 59 || s > 59 || (h === 24 && (mi || s || f))) return undefined;
  return ((h * 60 + mi) * 60 + s) * 1_000_000 + f;
}

export function microsToTime(us: bigint): string {
  const secs = us / 1_000_000n;
  const h = secs / 3600n;
  const mi = (secs % 3600n) / 60n;
  const s = secs % 60n;
  return `${pad2(Number(h))}:${pad2(Number(mi))}:${pad2(Number(s))}${formatFrac(us % 1_000_000n)}`;
}

/** Timestamp text → microseconds since the epoch; a zone offset, if present, is applied. */
export function timestampToMicros(text: string, requireZone: boolean): bigint | undefined {
  const m = TS_RE.exec(text);
  if (!m) return undefined;
  const zone = m[8];
  if (requireZone ? zone === undefined : zone !== undefined && zone !== 'Z') return undefined;
  const days = daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]));
  const time = timeOfDayMicros(Number(m[4]), Number(m[5]), Number(m[6]), m[7]);
  if (days === undefined || time === undefined) return undefined;
  let offsetMin = 0;
  if (zone && zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    offsetMin = (Number(z[2]) * 60 + Number(z[3] ?? 0)) * (z[1] === '-' ? -1 : 1);
  }
  return BigInt(days) * MICROS_PER_DAY + BigInt(time) - BigInt(offsetMin) * 60_000_000n;
}

export function microsToTimestamp(us: bigint, zoned: boolean): string {
  let days = us / MICROS_PER_DAY;
  let rest = us % MICROS_PER_DAY;
  if (rest < 0n) {
    rest += MICROS_PER_DAY;
    days -= 1n;
  }
  return `${daysToDate(Number(days))}T${microsToTime(rest)}${zoned ? 'Z' : ''}`;
}

export class DateType extends avro.types.LogicalType {
  protected override _fromValue(days: number): string {
    return daysToDate(days);
  }
  protected override _toValue(v: unknown): number | undefined {
    return typeof v === 'string' ? dateToDays(v) : undefined;
  }
  protected override _resolve(writer: avro.Type): ((v: unknown) => string) | undefined {
    if (writer instanceof DateType) return (v) => v as string;
    if (writer.typeName === 'int') return (v) => daysToDate(v as number);
    return undefined;
  }
}

/** Base of the long-backed temporal types: the underlying long arrives as bigint (bigintLong). */
abstract class MicrosType extends avro.types.LogicalType {
  constructor(schema: AvscSchema, opts?: unknown) {
    super(schema, opts);
    // avsc builds a logical type's underlying type itself, bypassing the registry's bigint long;
    // microseconds since 1970 pass 2^53 within ±285 years (9999-12-31 is a common sentinel).
    (this as unknown as { _underlyingType: avro.Type })._underlyingType = bigintLong;
  }
  protected abstract format(us: bigint): string;
  protected abstract parse(text: string): bigint | undefined;
  protected override _fromValue(us: unknown): string {
    return this.format(asBigint(us) ?? BigInt(us as number));
  }
  protected override _toValue(v: unknown): bigint | undefined {
    return typeof v === 'string' ? this.parse(v) : undefined;
  }
  protected override _resolve(writer: avro.Type): ((v: unknown) => string) | undefined {
    if (writer.constructor === this.constructor) return (v) => v as string;
    if (writer.typeName === 'long' || writer.typeName === 'abstract:long') return (v) => this._fromValue(v);
    return undefined;
  }
}

export class TimeMicrosType extends MicrosType {
  protected format(us: bigint): string {
    return microsToTime(us);
  }
  protected parse(text: string): bigint | undefined {
    return timeToMicros(text);
  }
}

export class TimestampMicrosType extends MicrosType {
  protected format(us: bigint): string {
    return microsToTimestamp(us, true);
  }
  protected parse(text: string): bigint | undefined {
    return timestampToMicros(text, true);
  }
}

export class LocalTimestampMicrosType extends MicrosType {
  protected format(us: bigint): string {
    return microsToTimestamp(us, false);
  }
  protected parse(text: string): bigint | undefined {
    return timestampToMicros(text, false);
  }
}

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export class UuidType extends avro.types.LogicalType {
  protected override _fromValue(s: string): string {
    return s;
  }
  protected override _toValue(v: unknown): string | undefined {
    return typeof v === 'string' && UUID_RE.test(v) ? v.toLowerCase() : undefined;
  }
  protected override _resolve(writer: avro.Type): ((v: unknown) => string) | undefined {
    if (writer instanceof UuidType || writer.typeName === 'string') return (v) => v as string;
    return undefined;
  }
}

/** The options every sluice avsc type is built with; fresh each call (avsc fills the registry). */
export function avscOptions(): Partial<avro.ForSchemaOptions> {
  return {
    logicalTypes: {
      decimal: DecimalType,
      date: DateType,
      'time-micros': TimeMicrosType,
      'timestamp-micros': TimestampMicrosType,
      'local-timestamp-micros': LocalTimestampMicrosType,
      uuid: UuidType,
    },
    registry: { long: bigintLong } as Record<string, avro.Type>,
    // ["null", T] unions read and write plain values, as a row image holds them.
    wrapUnions: false as const,
  };
}
