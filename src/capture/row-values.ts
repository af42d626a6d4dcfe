/**
 * Turns a row image as an application hands it over (JSON from HTTP, an object from the SDK, a JSON
 * text from the outbox) into the portable representation of core/table-schema.ts, checking each
 * value against its column. Every error names the field (`rows[3].after.amount`) and says why, and
 * nothing is half-accepted: the caller gets all the problems of an item or its value.
 */
import type { Column, ColumnValue, Row, TableSchema } from '../core/table-schema.js';
import { decimalToUnscaled } from '../core/portable-values.js';
import { dateToDays, microsToTimestamp, timeToMicros, timestampToMicros } from '../core/temporal.js';

export interface FieldProblem {
  field: string;
  message: string;
}

const INT_RANGE = { int16: [-32768, 32767], int32: [-2147483648, 2147483647] } as const;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** One value for one column; returns the portable value or a problem message. */
export function coerceValue(col: Column, v: unknown): { value: ColumnValue } | { problem: string } {
  if (v === null || v === undefined) return col.nullable ? { value: null } : { problem: 'is null but the column is NOT NULL' };
  const t = col.type;
  switch (t.kind) {
    case 'boolean':
      return typeof v === 'boolean' ? { value: v } : { problem: `expected a boolean, got ${show(v)}` };
    case 'int16':
    case 'int32': {
      const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : typeof v === 'bigint' ? Number(v) : v;
      const [lo, hi] = INT_RANGE[t.kind];
      return typeof n === 'number' && Number.isInteger(n) && n >= lo && n <= hi
        ? { value: n }
        : { problem: `expected an integer from ${lo} to ${hi}, got ${show(v)}` };
    }
    case 'int64': {
      let n: bigint | undefined;
      if (typeof v === 'bigint') n = v;
      else if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
      else if (typeof v === 'string' && /^-?\d+$/.test(v)) n = BigInt(v);
      return n !== undefined && n >= INT64_MIN && n <= INT64_MAX
        ? { value: n }
        : { problem: `expected a 64-bit integer (number up to 2^53, or a string of digits), got ${show(v)}` };
    }
    case 'float32':
    case 'float64': {
      if (typeof v === 'number') return { value: v };
      if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return { value: Number(v) };
      return { problem: `expected a number, got ${show(v)}` };
    }
    case 'decimal': {
      const text =
        typeof v === 'number' && Number.isFinite(v) && !/e/i.test(String(v))
          ? String(v)
          : typeof v === 'string'
            ? v.trim()
            : typeof v === 'bigint'
              ? v.toString()
              : undefined;
      if (text === undefined) return { problem: `expected a decimal as a string, got ${show(v)}` };
      const unscaled = decimalToUnscaled(text, t.scale);
      if (unscaled === undefined) return { problem: `expected a decimal with at most ${t.scale} digits after the point, got ${show(v)}` };
      if ((unscaled < 0n ? -unscaled : unscaled).toString().length > t.precision)
        return { problem: `${show(v)} does not fit decimal(${t.precision},${t.scale})` };
      return { value: text };
    }
    case 'string':
      if (typeof v !== 'string') return { problem: `expected a string, got ${show(v)}` };
      if (t.maxLength !== undefined && [...v].length > t.maxLength)
        return { problem: `is ${[...v].length} characters, the column holds ${t.maxLength}` };
      if (v.includes('\u0000')) return { problem: 'contains a NUL character, which the databases cannot store in text' };
      return { value: v };
    case 'json':
      if (typeof v === 'string') {
        try {
          JSON.parse(v);
          return { value: v };
        } catch {
          return { problem: `expected JSON text (or a JSON object/array), got ${show(v)}` };
        }
      }
      return { value: JSON.stringify(v) };
    case 'bytes':
      if (Buffer.isBuffer(v)) return { value: v };
      if (v instanceof Uint8Array) return { value: Buffer.from(v) };
      return typeof v === 'string' && BASE64_RE.test(v) && v.length % 4 === 0
        ? { value: Buffer.from(v, 'base64') }
        : { problem: `expected bytes as base64 text, got ${show(v)}` };
    case 'uuid':
      return typeof v === 'string' && UUID_RE.test(v) ? { value: v.toLowerCase() } : { problem: `expected a UUID, got ${show(v)}` };
    case 'date': {
      const s = v instanceof Date ? v.toISOString().slice(0, 10) : v;
      return typeof s === 'string' && dateToDays(s) !== undefined
        ? { value: s }
        : { problem: `expected a date YYYY-MM-DD, got ${show(v)}` };
    }
    case 'time': {
      if (typeof v !== 'string' || timeToMicros(v) === undefined) return { problem: `expected a time HH:MM:SS[.ffffff], got ${show(v)}` };
      return { value: v };
    }
    case 'timestamp': {
      const us = typeof v === 'string' ? timestampToMicros(v, false) : undefined;
      return us === undefined
        ? { problem: `expected a timestamp without zone YYYY-MM-DD HH:MM:SS[.ffffff], got ${show(v)}` }
        : { value: microsToTimestamp(us, false) };
    }
    case 'timestamptz': {
      const us = v instanceof Date ? BigInt(v.getTime()) * 1000n : typeof v === 'string' ? timestampToMicros(v, true) : undefined;
      return us === undefined
        ? { problem: `expected a timestamp with a zone (…Z or …+01:00), got ${show(v)}` }
        : { value: microsToTimestamp(us, true) };
    }
  }
}

/** A whole row image: every column of the table must be present (a row image is complete). */
export function coerceRow(
  table: TableSchema,
  input: unknown,
  path: string,
  problems: FieldProblem[],
  only?: readonly string[],
): Row | undefined {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    problems.push({ field: path, message: 'expected an object of column values' });
    return undefined;
  }
  const obj = input as Record<string, unknown>;
  const before = problems.length;
  const cols = only ? table.columns.filter((c) => only.includes(c.name)) : table.columns;
  for (const k of Object.keys(obj)) {
    if (!cols.some((c) => c.name === k))
      problems.push({ field: `${path}.${k}`, message: `${table.name} has no ${only ? 'key ' : ''}column "${k}"` });
  }
  const row: Row = {};
  for (const col of cols) {
    if (!(col.name in obj)) {
      problems.push({ field: `${path}.${col.name}`, message: 'is missing (a row image holds every column; send null for NULL)' });
      continue;
    }
    const r = coerceValue(col, obj[col.name]);
    if ('problem' in r) problems.push({ field: `${path}.${col.name}`, message: r.problem });
    else row[col.name] = r.value;
  }
  return problems.length === before ? row : undefined;
}

/** The primary-key part of a row. */
export function keyOf(table: TableSchema, row: Row): Row {
  const key: Row = {};
  for (const k of table.primaryKey) key[k] = row[k] ?? null;
  return key;
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** JSON text of a row that keeps bigint and bytes exact (decoded again with coerceRow). */
export function rowToJson(row: Record<string, unknown>): string {
  return JSON.stringify(row, function (this: Record<string, unknown>, k, v) {
    const raw = k === '' ? v : this[k];
    if (typeof raw === 'bigint') return raw.toString();
    if (Buffer.isBuffer(raw) || raw instanceof Uint8Array) return Buffer.from(raw).toString('base64');
    if (raw instanceof Date) return raw.toISOString();
    return v;
  });
}
