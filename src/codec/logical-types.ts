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
import { decimalText, decimalToUnscaled, digitCount, unscaledToDecimal } from '../core/portable-values.js';
import { dateToDays, daysToDate, microsToTime, microsToTimestamp, timeToMicros, timestampToMicros } from '../core/temporal.js';

type Schema = Record<string, unknown>;
type AvscSchema = ConstructorParameters<typeof avro.types.LogicalType>[0];

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
    const text = decimalText(v);
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
