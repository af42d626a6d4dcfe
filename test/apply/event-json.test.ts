// Dead letters keep the raw event as JSON: it must come back exactly (bigint, bytes, NaN, -0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeEvent } from '../../src/core/change-event.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { eventFromJson, eventToJson } from '../../src/apply/event-json.js';

const schema: TableSchema = {
  name: 't',
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: { kind: 'int64' }, nullable: false },
    { name: 'b', type: { kind: 'bytes' }, nullable: true },
    { name: 'f', type: { kind: 'float64' }, nullable: true },
    { name: 'g', type: { kind: 'float32' }, nullable: true },
    { name: 'd', type: { kind: 'decimal', precision: 38, scale: 10 }, nullable: true },
    { name: 's', type: { kind: 'string' }, nullable: true },
  ],
};

test('an event survives the dead-letter table exactly', () => {
  const e: ChangeEvent = {
    table: { schema: 'public', name: 't' },
    op: 'u',
    key: { id: 9223372036854775807n },
    after: { id: 9223372036854775807n, b: Buffer.from([0, 1, 255]), f: Number.NaN, g: -0, d: '1.0000000001', s: '"quoted" \\ \u2028' },
    source: { connector: 'c', position: '0/16B3748', commitTs: '2024-01-01T00:00:00.000001Z' },
    version: 18446744073709551615n >> 1n,
  };
  const text = eventToJson(e);
  JSON.parse(text); // plain JSON
  assert.deepStrictEqual(
    eventFromJson(text, () => schema),
    e,
  );
  const del: ChangeEvent = { table: { name: 't' }, op: 'd', key: { id: 1n }, source: { connector: 'c', position: '1' }, version: 1n };
  assert.deepStrictEqual(
    eventFromJson(eventToJson(del), () => schema),
    del,
  );
});
