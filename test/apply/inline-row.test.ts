// A small batch's rows travel as one JSON parameter (pg-load.ts inlineRow). Only strings,
// JSON and bytes go through JSON.stringify; every other kind's text is put between quotes as is,
// so this checks that no kind's text, on the fast path or the checked one, breaks the JSON.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inlineRow } from '../../src/apply/dialects/pg-load.js';
import type { Change, TableBinding } from '../../src/apply/dialects/types.js';
import type { Column, Row } from '../../src/core/table-schema.js';
import { toPgText } from '../../src/metadata/pg-text.js';

const columns: Column[] = [
  { name: 'id', type: { kind: 'int64' }, nullable: false },
  { name: 'i16', type: { kind: 'int16' }, nullable: true },
  { name: 'f64', type: { kind: 'float64' }, nullable: true },
  { name: 'f32', type: { kind: 'float32' }, nullable: true },
  { name: 'dec', type: { kind: 'decimal', precision: 38, scale: 10 }, nullable: true },
  { name: 'flag', type: { kind: 'boolean' }, nullable: true },
  { name: 'txt "quoted"', type: { kind: 'string' }, nullable: true },
  { name: 'raw', type: { kind: 'bytes' }, nullable: true },
  { name: 'uid', type: { kind: 'uuid' }, nullable: true },
  { name: 'day', type: { kind: 'date' }, nullable: true },
  { name: 'at', type: { kind: 'time' }, nullable: true },
  { name: 'ts', type: { kind: 'timestamp' }, nullable: true },
  { name: 'tstz', type: { kind: 'timestamptz' }, nullable: true },
];
const binding = { columns, keyColumns: [columns[0]!] } as unknown as TableBinding;

function inline(after: Row, deleted = false): { k: string; v: string; d: boolean; r: Record<string, string | null> } {
  const change: Change = {
    binding,
    keyText: String(after.id),
    version: 7n,
    deleted,
    event: {
      table: { name: 't' },
      op: deleted ? 'd' : 'u',
      key: { id: after.id! },
      ...(deleted ? {} : { after }),
      source: { connector: 'test', position: '7' },
      version: 7n,
    },
  };
  return JSON.parse(inlineRow(change));
}

test('every kind of value makes valid JSON holding the text PostgreSQL gets', () => {
  const row: Row = {
    id: 42n,
    i16: -32768,
    f64: Number.NaN,
    f32: -0,
    dec: '-12345678901234567890.0123456789',
    flag: false,
    'txt "quoted"': 'a "quote", a \\ backslash, a tab\there, a newline\n, \u0001 and \u2028 ünïcödé',
    raw: Buffer.from([0, 0x22, 0x5c, 0xff]),
    uid: '0A1B2C3D-0000-4000-8000-00000000000F',
    day: '-0043-03-15',
    at: '23:59:59.999999',
    ts: '-0043-03-15T12:00:00.5',
    tstz: '2024-02-29T23:59:59.000001Z',
  };
  const j = inline(row);
  assert.deepEqual({ k: j.k, v: j.v, d: j.d }, { k: '42', v: '7', d: false });
  assert.equal(j.r['txt "quoted"'], row['txt "quoted"']);
  assert.equal(j.r.raw, '\\x00225cff');
  assert.equal(j.r.f64, 'NaN');
  assert.equal(j.r.f32, '-0');
  assert.equal(j.r.i16, '-32768');
  assert.equal(j.r.dec, row.dec);
  assert.equal(j.r.flag, 'f');
  assert.equal(j.r.day, '0044-03-15 BC');
  assert.equal(j.r.ts, '0044-03-15 12:00:00.500000 BC');
  assert.equal(j.r.at, '23:59:59.999999');
  // Every column: the same text the COPY path and a bound parameter get.
  for (const c of columns) assert.equal(j.r[c.name], toPgText(c.type, row[c.name]), c.name);
});

test('infinite floats, nulls and a delete (key columns only) stay valid JSON', () => {
  const j = inline({ id: 1n, f64: Number.POSITIVE_INFINITY, f32: Number.NEGATIVE_INFINITY, dec: null, 'txt "quoted"': '' });
  assert.equal(j.r.f64, 'Infinity');
  assert.equal(j.r.f32, '-Infinity');
  assert.equal(j.r.dec, null);
  assert.equal(j.r['txt "quoted"'], '');
  const d = inline({ id: 2n }, true);
  assert.equal(d.d, true);
  assert.equal(d.r.id, '2');
  assert.equal(d.r.flag, null);
});
