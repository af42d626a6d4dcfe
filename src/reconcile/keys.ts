/**
 * Keys as reconcile sees them: the canonical text of each key column (canonical.ts), read from
 * either database, compared in JS in exactly the order both databases were asked to sort by
 * (keyOrderSql in queries.ts), and turned back into portable values to read or repair a row.
 *
 * The order is the engines' common ground, not each column's own collation: integers, decimals
 * and floats by value; strings by code point (PostgreSQL COLLATE "C", MariaDB's bytes of utf8mb4,
 * both without trailing-space padding); bytes by byte; uuids, dates and times by their
 * canonical text, which sorts like the value (a shorter fraction is a prefix of a longer one).
 */
import type { Column, ColumnValue, Row } from '../core/table-schema.js';
import { compareIntegerText } from '../apply/key-text.js';

export type KeyTexts = readonly string[];

export function compareKeys(cols: readonly Column[]): (a: KeyTexts, b: KeyTexts) => number {
  const cmps = cols.map((c) => compareColumn(c));
  if (cmps.length === 1) {
    const c0 = cmps[0]!;
    return (a, b) => c0(a[0]!, b[0]!);
  }
  return (a, b) => {
    for (let i = 0; i < cmps.length; i++) {
      const d = cmps[i]!(a[i]!, b[i]!);
      if (d !== 0) return d;
    }
    return 0;
  };
}

function compareColumn(c: Column): (a: string, b: string) => number {
  switch (c.type.kind) {
    case 'int16':
    case 'int32':
    case 'int64':
      return compareIntegerText;
    case 'decimal':
      return compareDecimalText;
    case 'float32':
    case 'float64':
      return (a, b) => Number(a) - Number(b);
    case 'string':
    case 'json':
      return compareCodePoints;
    default:
      return (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  }
}

/** Canonical decimal texts (no trailing fractional zeros) by value. */
export function compareDecimalText(a: string, b: string): number {
  const an = a.startsWith('-');
  const bn = b.startsWith('-');
  if (an !== bn) return an ? -1 : 1;
  const [ai = '', af = ''] = (an ? a.slice(1) : a).split('.');
  const [bi = '', bf = ''] = (bn ? b.slice(1) : b).split('.');
  let d = ai.length - bi.length || (ai < bi ? -1 : ai > bi ? 1 : 0);
  if (d === 0) {
    const w = Math.max(af.length, bf.length);
    const x = af.padEnd(w, '0');
    const y = bf.padEnd(w, '0');
    d = x < y ? -1 : x > y ? 1 : 0;
  }
  return an ? 0 - d : d;
}

/**
 * UTF-16 code unit order differs from code point order only where a surrogate pair meets a
 * character from U+E000 to U+FFFF; compare code points there.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      const cx = a.codePointAt(i)!;
      const cy = b.codePointAt(i)!;
      return cx - cy;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** A key column's canonical text back to the portable value (core/table-schema.ts). */
export function portableKeyValue(c: Column, text: string): ColumnValue {
  switch (c.type.kind) {
    case 'int16':
    case 'int32':
    case 'float32':
    case 'float64':
      return Number(text);
    case 'int64':
      return BigInt(text);
    case 'boolean':
      return text === '1';
    case 'bytes':
      return Buffer.from(text, 'hex');
    case 'timestamp':
      return text.replace(' ', 'T');
    case 'timestamptz':
      return `${text.replace(' ', 'T')}Z`;
    default:
      return text;
  }
}

export function keyRow(cols: readonly Column[], texts: KeyTexts): Row {
  const row: Row = {};
  cols.forEach((c, i) => {
    row[c.name] = portableKeyValue(c, texts[i]!);
  });
  return row;
}
