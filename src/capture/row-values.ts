/**
 * Turns a row image as an application hands it over (JSON from HTTP, an object from the SDK, a JSON
 * text from the outbox) into the portable representation of core/table-schema.ts, checking each
 * value against its column. Every error names the field (`rows[3].after.amount`) and says why, and
 * nothing is half-accepted: the caller gets all the problems of an item or its value.
 */
import type { Column, ColumnValue, Row, TableSchema } from '../core/table-schema.js';
import { ValueError, checkValue } from '../core/portable-values.js';

export interface FieldProblem {
  field: string;
  message: string;
}

const FROM_APPLICATION = { fromApplication: true } as const;

/** One value for one column; returns the portable value or a problem message. */
export function coerceValue(col: Column, v: unknown): { value: ColumnValue } | { problem: string } {
  if (v === null || v === undefined) return col.nullable ? { value: null } : { problem: 'is null but the column is NOT NULL' };
  try {
    return { value: checkValue(col.type, v, FROM_APPLICATION) };
  } catch (err) {
    if (err instanceof ValueError) return { problem: err.message };
    throw err;
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
