/**
 * Calendar and epoch arithmetic for the temporal values of table-schema.ts, and their text: the
 * proleptic Gregorian calendar with astronomical years (year 0 is 1 BC, -0043 is 44 BC).
 *
 * No Date: years beyond ±9999 and before year 1 occur, and the codec converts every date and
 * timestamp it writes or reads, so this is arithmetic on numbers (Howard Hinnant's
 * days_from_civil / civil_from_days) rather than an object per value.
 */

export const MICROS_PER_DAY = 86_400_000_000n;

export const DATE_RE = /^(-?\d{4,})-(\d\d)-(\d\d)$/;
export const TIME_RE = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/;
/** A timestamp without zone; `T` or a space between date and time. */
export const TIMESTAMP_RE = /^(-?\d{4,})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/;
/** A timestamp with a zone: `Z` or an offset `±HH`, `±HHMM`, `±HH:MM`. */
export const TIMESTAMPTZ_RE = /^(-?\d{4,})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d(?::?\d\d)?)$/;
const ANY_TIMESTAMP_RE = /^(-?\d{4,})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d(?::?\d\d)?)?$/;
const OFFSET_RE = /^([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?$/;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/**
 * JavaScript's Date range (±10^8 days), the bound checked dates always had here: within it every
 * timestamp's microseconds fit a signed 64-bit long.
 */
const MAX_DAYS = 100_000_000;

// --- calendar ---------------------------------------------------------------------------------

/** Days since 1970-01-01 of a proleptic Gregorian date; the fields are not checked. */
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

/** daysFromCivil of a real calendar date within ±10^8 days of 1970; undefined otherwise. */
export function checkedDaysFromCivil(y: number, m: number, d: number): number | undefined {
  if (m < 1 || m > 12 || d < 1) return undefined;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (d > (m === 2 && leap ? 29 : MONTH_DAYS[m - 1]!)) return undefined;
  const days = daysFromCivil(y, m, d);
  return Math.abs(days) > MAX_DAYS ? undefined : days;
}

// --- text -------------------------------------------------------------------------------------

/** Astronomical year as portable text: 0044, 12345, 0000 (1 BC), -0043 (44 BC). */
export function formatYear(y: number): string {
  return y < 0 ? `-${String(-y).padStart(4, '0')}` : String(y).padStart(4, '0');
}

export function pad2(n: number): string {
  return String(n).padStart(2, '0');
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

/** HH:MM:SS of whole seconds since midnight, then the fraction text as given. */
function clockText(secs: number, frac: string): string {
  return `${pad2(Math.trunc(secs / 3600))}:${pad2(Math.trunc((secs % 3600) / 60))}:${pad2(secs % 60)}${frac}`;
}

/** Offset text (`Z`, `+05`, `-0330`, `+05:30`, `+00:09:21`) in seconds east of UTC. */
export function offsetSeconds(zone: string): number {
  if (zone === 'Z') return 0;
  const m = OFFSET_RE.exec(zone);
  // Callers pass a zone their timestamp pattern has matched already.
  if (!m) throw new RangeError(`invalid zone offset "${zone}"`);
  const s = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? -s : s;
}

/**
 * Portable UTC text of an instant given as civil fields and an offset. The fields are not checked:
 * with no offset the text is only rearranged, so what the target server would refuse stays visible.
 */
export function utcText(y: number, mo: number, d: number, h: number, mi: number, s: number, frac: string, offsetSecs: number): string {
  if (offsetSecs === 0) return `${formatDate(y, mo, d)}T${pad2(h)}:${pad2(mi)}:${pad2(s)}${frac}Z`;
  let secs = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offsetSecs;
  const days = Math.floor(secs / 86400);
  secs -= days * 86400;
  return `${daysToDate(days)}T${clockText(secs, frac)}Z`;
}

// --- epoch numbers (the Avro logical types' representation) -----------------------------------

/** Days since 1970-01-01 of date text, or undefined when it is not a real date (or beyond ±10^8 days). */
export function dateToDays(text: string): number | undefined {
  const m = DATE_RE.exec(text);
  return m ? checkedDaysFromCivil(Number(m[1]), Number(m[2]), Number(m[3])) : undefined;
}

export function daysToDate(days: number): string {
  const [y, m, d] = civilFromDays(days);
  return formatDate(y, m, d);
}

/** Microseconds since midnight (a safe integer), or undefined when out of range. */
function timeOfDayMicros(h: number, mi: number, s: number, frac: string | undefined): number | undefined {
  const f = frac === undefined ? 0 : Number(frac.padEnd(6, '0'));
  // 24:00:00 is a valid PostgreSQL time (end of day).
  if (h > 24 || mi > 59 || s > 59 || (h === 24 && (mi || s || f))) return undefined;
  return ((h * 60 + mi) * 60 + s) * 1_000_000 + f;
}

export function timeToMicros(text: string): bigint | undefined {
  const m = TIME_RE.exec(text);
  if (!m) return undefined;
  const us = timeOfDayMicros(Number(m[1]), Number(m[2]), Number(m[3]), m[4]);
  return us === undefined ? undefined : BigInt(us);
}

export function microsToTime(us: bigint): string {
  const frac = us % 1_000_000n;
  return clockText(Number(us / 1_000_000n), frac === 0n ? '' : `.${frac.toString().padStart(6, '0')}`);
}

/**
 * Timestamp text → microseconds since the epoch; a zone offset, if present, is applied. With
 * `requireZone` the text must carry a zone, without it the text may carry none or `Z`.
 */
export function timestampToMicros(text: string, requireZone: boolean): bigint | undefined {
  const m = ANY_TIMESTAMP_RE.exec(text);
  if (!m) return undefined;
  const zone = m[8];
  if (requireZone ? zone === undefined : zone !== undefined && zone !== 'Z') return undefined;
  const days = checkedDaysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]));
  const time = timeOfDayMicros(Number(m[4]), Number(m[5]), Number(m[6]), m[7]);
  if (days === undefined || time === undefined) return undefined;
  const offset = zone === undefined ? 0 : offsetSeconds(zone);
  return BigInt(days) * MICROS_PER_DAY + BigInt(time) - BigInt(offset) * 1_000_000n;
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
