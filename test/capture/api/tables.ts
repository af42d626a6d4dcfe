/** Table schemas the capture API and SDK tests share. */
import type { TableSchema } from '../../../src/core/table-schema.js';

export const coupon: TableSchema = {
  name: 'coupon',
  columns: [
    { name: 'id', type: { kind: 'int64' }, nullable: false },
    { name: 'code', type: { kind: 'string', maxLength: 32 }, nullable: false },
    { name: 'discount', type: { kind: 'decimal', precision: 10, scale: 2 }, nullable: false },
    { name: 'description', type: { kind: 'string' }, nullable: true },
    { name: 'valid_until', type: { kind: 'timestamptz' }, nullable: true },
    { name: 'created_at', type: { kind: 'timestamp' }, nullable: false },
    { name: 'redeemed_count', type: { kind: 'int32' }, nullable: false },
    { name: 'image', type: { kind: 'bytes' }, nullable: true },
    { name: 'meta', type: { kind: 'json' }, nullable: true },
  ],
  primaryKey: ['id'],
};

/** Composite key; lives in a schema, and so does a second `entry` (a bare "entry" is ambiguous). */
export const ledgerEntry: TableSchema = {
  schema: 'ledger',
  name: 'entry',
  columns: [
    { name: 'account', type: { kind: 'int32' }, nullable: false },
    { name: 'seq', type: { kind: 'int64' }, nullable: false },
    { name: 'amount', type: { kind: 'decimal', precision: 38, scale: 10 }, nullable: false },
  ],
  primaryKey: ['account', 'seq'],
};

export const archiveEntry: TableSchema = { ...ledgerEntry, schema: 'archive' };

export const TABLES = [coupon, ledgerEntry, archiveEntry] as const;

/** A valid full row image of coupon, as JSON would carry it. */
export function couponRow(id: number | string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    code: `C${id}`,
    discount: '12.50',
    description: null,
    valid_until: null,
    created_at: '2024-03-01 10:00:00',
    redeemed_count: 0,
    image: null,
    meta: null,
    ...extra,
  };
}
