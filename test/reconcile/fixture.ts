// A table of every portable column type, rows generated from a seed, written to source and target
// through sluice's own sink (so values are exactly what replication would write), and drift
// planted on the target through the sink as well (newer versions), one kind per key.
import type { ChangeEvent } from '../../src/core/change-event.js';
import type { Row, TableSchema } from '../../src/core/table-schema.js';
import { createSink, type SqlSink } from '../../src/apply/index.js';
import type { DbConnection } from '../../src/metadata/types.js';
import { prng } from '../support/prng.js';

export const TABLE: TableSchema = {
  name: 'drift_all',
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: { kind: 'int64' }, nullable: false },
    { name: 'i16', type: { kind: 'int16' }, nullable: true },
    { name: 'i32', type: { kind: 'int32' }, nullable: true },
    { name: 'f32', type: { kind: 'float32' }, nullable: true },
    { name: 'f64', type: { kind: 'float64' }, nullable: true },
    { name: 'dec', type: { kind: 'decimal', precision: 38, scale: 10 }, nullable: true },
    { name: 's', type: { kind: 'string' }, nullable: true },
    { name: 'vc', type: { kind: 'string', maxLength: 40 }, nullable: true },
    { name: 'js', type: { kind: 'json' }, nullable: true },
    { name: 'b', type: { kind: 'bytes' }, nullable: true },
    { name: 'u', type: { kind: 'uuid' }, nullable: true },
    { name: 'd', type: { kind: 'date' }, nullable: true },
    { name: 'tm', type: { kind: 'time' }, nullable: true },
    { name: 'ts', type: { kind: 'timestamp' }, nullable: true },
    { name: 'tstz', type: { kind: 'timestamptz' }, nullable: true },
    { name: 'flag', type: { kind: 'boolean' }, nullable: true },
  ],
};

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** Source ids 1..n except multiples of 97 (gaps the ranges must not care about). */
export function sourceIds(n: number): number[] {
  const ids: number[] = [];
  for (let id = 1; id <= n; id++) if (id % 97 !== 0) ids.push(id);
  return ids;
}

export function makeRow(id: number, seed = 1): Row {
  const r = prng(seed * 1_000_003 + id);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const maybe = <T>(v: T): T | null => (r() < 0.1 ? null : v);
  const hex = (len: number) => Array.from({ length: len }, () => Math.floor(r() * 16).toString(16)).join('');
  const micros = pad(Math.floor(r() * 1_000_000), 6);
  return {
    id: BigInt(id),
    i16: maybe(Math.floor(r() * 60000) - 30000),
    i32: maybe(Math.floor(r() * 4e9) - 2e9),
    f32: maybe(Math.fround((r() - 0.5) * 10 ** Math.floor(r() * 12 - 6))),
    f64: maybe((r() - 0.5) * 10 ** Math.floor(r() * 40 - 20)),
    dec: maybe(`${Math.floor(r() * 1e9) - 5e8}.${pad(Math.floor(r() * 1e10), 10)}`),
    s: r() < 0.1 ? null : r() < 0.1 ? '' : pick(['plain', 'ünïcødé ✓', 'emoji 🚀', 'a|b', '\\N', 'tab\tnew\nline', 'trailing ']) + hex(4),
    vc: maybe(pick(['Alpha', 'beta', 'GAMMA']) + hex(3)),
    js: maybe(JSON.stringify({ k: hex(5), n: Math.floor(r() * 100), arr: [1, 2.5, null] })),
    b: maybe(Buffer.from(hex(2 + Math.floor(r() * 20)) + '00', 'hex')),
    u: maybe(`${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`),
    d: maybe(`${1900 + Math.floor(r() * 200)}-${pad(1 + Math.floor(r() * 12), 2)}-${pad(1 + Math.floor(r() * 28), 2)}`),
    tm: maybe(`${pad(Math.floor(r() * 24), 2)}:${pad(Math.floor(r() * 60), 2)}:${pad(Math.floor(r() * 60), 2)}.${micros}`),
    ts: maybe(`2024-${pad(1 + Math.floor(r() * 12), 2)}-${pad(1 + Math.floor(r() * 28), 2)}T10:20:30.${micros}`),
    tstz: maybe(`2025-${pad(1 + Math.floor(r() * 12), 2)}-${pad(1 + Math.floor(r() * 28), 2)}T01:02:03.${micros}Z`),
    flag: maybe(r() < 0.5),
  };
}

let nextVersion = 1n;
export function event(table: TableSchema, op: 'c' | 'u' | 'd', row: Row, version?: bigint): ChangeEvent {
  const key: Row = {};
  for (const k of table.primaryKey) key[k] = row[k]!;
  return {
    table,
    op,
    key,
    ...(op === 'd' ? {} : { after: row }),
    source: { connector: 'test', position: String(nextVersion) },
    version: version ?? nextVersion++,
  };
}

export function sinkFor(conn: DbConnection, table: TableSchema = TABLE): SqlSink {
  switch (conn.dialect) {
    case 'postgres':
      return createSink({ dialect: 'postgres', connection: conn.connection as never, tables: [table] });
    case 'mysql':
      return createSink({ dialect: 'mysql', connection: conn.connection as never, tables: [table] });
    case 'pglite':
      return createSink({ dialect: 'pglite', connection: conn.connection as never, tables: [table] });
  }
}

export async function load(sink: SqlSink, rows: readonly Row[], table: TableSchema = TABLE): Promise<void> {
  for (let i = 0; i < rows.length; i += 2000) await sink.apply(rows.slice(i, i + 2000).map((r) => event(table, 'c', r)));
}

/** A different value of the same type, for each column kind: the smallest change that matters. */
export function nudge(column: string, v: Row[string]): Row[string] {
  switch (column) {
    case 'i16':
    case 'i32':
      return (v as number) + 1;
    case 'f32': {
      const f = new Float32Array([v as number]);
      new Uint32Array(f.buffer)[0]! += 1; // one ulp
      return f[0]!;
    }
    case 'f64': {
      const f = new Float64Array([v as number]);
      new BigUint64Array(f.buffer)[0]! += 1n; // one ulp
      return f[0]!;
    }
    case 'dec':
      return (v as string).replace(/\d$/, (d) => String((Number(d) + 1) % 10)); // last digit of the scale
    case 's':
      return v === null ? '' : `${v as string} `; // NULL vs '', trailing space
    case 'vc':
      return (v as string).toUpperCase() === v ? (v as string).toLowerCase() : (v as string).toUpperCase();
    case 'js':
      return (v as string).replace('"n":', '"n":1');
    case 'b':
      return Buffer.concat([v as Buffer, Buffer.from([0])]);
    case 'u':
      return (v as string).replace(/^./, (c) => (c === 'f' ? '0' : 'f'));
    case 'd':
      return (v as string).replace(/-(\d\d)$/, (_, d) => `-${pad((Number(d) % 28) + 1, 2)}`);
    case 'tm':
    case 'ts':
    case 'tstz':
      return (v as string).replace(/(\d)(Z?)$/, (_, d, z) => `${(Number(d) + 1) % 10}${z}`); // one microsecond digit
    case 'flag':
      return !(v as boolean);
    default:
      throw new Error(`no nudge for ${column}`);
  }
}

export const NUDGED = ['i16', 'i32', 'f32', 'f64', 'dec', 's', 'vc', 'js', 'b', 'u', 'd', 'tm', 'ts', 'tstz', 'flag'] as const;
