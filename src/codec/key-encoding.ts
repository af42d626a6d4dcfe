/**
 * Kafka record keys: the primary key, encoded deterministically, because the partition is the
 * murmur2 hash of these bytes and must never move when the value's schema changes
 * (docs/guarantees.md: partition-by-key-bytes).
 *
 *   auto  one int16/int32 column → 4 bytes big-endian (Java IntegerSerializer),
 *         one int64 column → 8 bytes big-endian (Java LongSerializer),
 *         one string/uuid column → UTF-8 (Java StringSerializer),
 *         anything else → json
 *   json  the key values in primary-key order as a JSON array, UTF-8; bigint and decimals as
 *         strings, bytes as base64: stable across schema versions and readable by any consumer
 */
import type { Row, TableSchema } from '../core/table-schema.js';
import { SluiceError } from '../core/errors.js';

export const KEY_ENCODINGS = ['auto', 'json'] as const;
export type KeyEncoding = (typeof KEY_ENCODINGS)[number];

export type KeyEncoder = (key: Row) => Buffer;

export function keyEncoder(table: TableSchema, encoding: KeyEncoding = 'auto'): KeyEncoder {
  const pk = table.primaryKey;
  if (encoding === 'auto' && pk.length === 1) {
    const col = table.columns.find((c) => c.name === pk[0]);
    const name = pk[0]!;
    switch (col?.type.kind) {
      case 'int16':
      case 'int32':
        return (key) => {
          const b = Buffer.allocUnsafe(4);
          b.writeInt32BE(Number(need(key, name, table)));
          return b;
        };
      case 'int64':
        return (key) => {
          const b = Buffer.allocUnsafe(8);
          b.writeBigInt64BE(BigInt(need(key, name, table) as bigint | number | string));
          return b;
        };
      case 'string':
      case 'uuid':
        return (key) => Buffer.from(String(need(key, name, table)), 'utf8');
      default:
        break;
    }
  }
  return (key) => Buffer.from(JSON.stringify(pk.map((k) => jsonKeyValue(need(key, k, table)))), 'utf8');
}

function need(key: Row, col: string, table: TableSchema): NonNullable<Row[string]> {
  const v = key[col];
  if (v === null || v === undefined) {
    throw new SluiceError('SLUICE_ERR_CODEC_VALUE', `Key column "${col}" of table ${table.name} is missing or null`, {
      context: { table: table.name, field: col },
    });
  }
  return v;
}

function jsonKeyValue(v: NonNullable<Row[string]>): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return v.toString('base64');
  return v;
}
