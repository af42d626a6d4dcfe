/**
 * The canonical text of a row's key, under which the target remembers the row's last applied
 * version (key_text of the version rows) and parks it behind a dead letter. Equal keys must give
 * equal text however the event spelled them (1n vs "1" for int64, "1.5" vs "1.50" for a decimal,
 * upper- vs lower-case UUID, a timestamptz offset), and different keys different text.
 *
 *   one key column   its canonical text: 42, 1.50, abc, 0a1b…, 2024-01-02T03:04:05.000001Z
 *   several          a JSON array of those texts: ["42","abc"]
 */
import type { Column, ColumnValue, Row, TableSchema } from '../core/table-schema.js';
import { INT64_MAX, INT64_MIN, ValueError, checkValue, decimalAtScale, fail } from '../core/portable-values.js';

export type KeyTexter = (key: Row) => string;

function columnText(col: Column): (v: ColumnValue | undefined) => string {
  const t = col.type;
  const need = (v: ColumnValue | undefined): ColumnValue => {
    if (v === null || v === undefined) fail(`key column "${col.name}" is ${v === null ? 'null' : 'missing'}`);
    try {
      return checkValue(t, v);
    } catch (err) {
      throw new ValueError(`key column "${col.name}": ${(err as Error).message}`);
    }
  };
  switch (t.kind) {
    case 'int64':
      // The hot path (bigint keys): no regex, no allocation beyond the string.
      return (v) => (typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX ? v.toString() : String(need(v)));
    case 'int16':
    case 'int32':
      return (v) => (typeof v === 'number' && Number.isInteger(v) ? String(v) : String(need(v)));
    case 'string':
      return (v) => (typeof v === 'string' && !v.includes('\u0000') ? v : (need(v) as string));
    case 'decimal':
      return (v) => decimalAtScale(need(v) as string, t.scale);
    case 'bytes':
      return (v) => (need(v) as Buffer).toString('hex');
    case 'boolean':
      return (v) => (need(v) ? 't' : 'f');
    case 'float32':
    case 'float64':
      return (v) => {
        const n = need(v) as number;
        return n === 0 ? '0' : String(n);
      };
    default:
      return (v) => String(need(v));
  }
}

export function keyTexter(table: TableSchema): KeyTexter {
  const cols = table.primaryKey.map((k) => {
    const c = table.columns.find((x) => x.name === k);
    if (!c) throw new TypeError(`Key column "${k}" is not a column of ${table.name}`);
    return c;
  });
  if (cols.length === 1) {
    const c = cols[0]!;
    const text = columnText(c);
    return (key) => text(key[c.name]);
  }
  const texts = cols.map((c) => [c.name, columnText(c)] as const);
  return (key) => JSON.stringify(texts.map(([name, text]) => text(key[name])));
}

/**
 * A total order on a table's key texts, the one every sink locks keys in (so concurrent batches
 * queue rather than deadlock): numeric for a single integer key (which is also the order of the
 * target's primary-key index, so the writes land in index order), bytewise otherwise.
 */
export function keyOrder(table: TableSchema): (a: string, b: string) => number {
  const only = table.primaryKey.length === 1 ? table.columns.find((c) => c.name === table.primaryKey[0]) : undefined;
  if (only && (only.type.kind === 'int16' || only.type.kind === 'int32' || only.type.kind === 'int64')) return compareIntegerText;
  return (a, b) => (a < b ? -1 : a > b ? 1 : 0);
}

/** Canonical integer texts ("-12", "7", "10") by value. */
export function compareIntegerText(a: string, b: string): number {
  const an = a.charCodeAt(0) === 45;
  const bn = b.charCodeAt(0) === 45;
  if (an !== bn) return an ? -1 : 1;
  const d = a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  return an ? -d : d;
}
