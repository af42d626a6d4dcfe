// How a table's changes are loaded (src/apply/plan.ts), decided without a database: inline rows
// for small batches, the stage for large ones and for json columns, new keys for large batches of
// upserts when the back-off allows, rows on a dialect without COPY.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyShape, newKeysCandidate, plan, type LoadCapabilities } from '../../src/apply/plan.js';
import type { Change, TableBinding } from '../../src/apply/dialects/types.js';
import type { Column } from '../../src/core/table-schema.js';

const POSTGRES: LoadCapabilities = { stage: true, inlineMax: 64, newKeysMin: 500 };
const PGLITE: LoadCapabilities = { stage: true, inlineMax: 0, newKeysMin: Infinity };
const MYSQL: LoadCapabilities = { stage: false, inlineMax: 0, newKeysMin: Infinity };

function binding(...extra: Column[]): TableBinding {
  const columns: Column[] = [{ name: 'id', type: { kind: 'int64' }, nullable: false }, ...extra];
  return { columns, keyColumns: [columns[0]!] } as unknown as TableBinding;
}

function changes(b: TableBinding, n: number, deleteEvery = 0): Change[] {
  return Array.from({ length: n }, (_, i) => {
    const deleted = deleteEvery > 0 && i % deleteEvery === 0;
    return {
      binding: b,
      keyText: String(i),
      version: 1n,
      deleted,
      event: {
        table: { name: 't' },
        op: deleted ? 'd' : 'u',
        key: { id: BigInt(i) },
        ...(deleted ? {} : { after: { id: BigInt(i) } }),
        source: { connector: 'test', position: '1' },
        version: 1n,
      },
    };
  });
}

const plain = binding({ name: 'name', type: { kind: 'string' }, nullable: true });

test('up to inlineMax changes travel inline, more go through the stage', () => {
  const small = plan(plain, changes(plain, 64), POSTGRES, { newKeys: true });
  assert.equal(small.kind, 'inline');
  assert.equal(small.changes.length, 64);
  assert.equal(plan(plain, changes(plain, 65), POSTGRES, { newKeys: true }).kind, 'stage');
  assert.equal(plan(plain, changes(plain, 1), PGLITE, { newKeys: true }).kind, 'stage');
});

test('a table with a json column never travels inline', () => {
  const withJson = binding({ name: 'doc', type: { kind: 'json' }, nullable: true });
  assert.equal(plan(withJson, changes(withJson, 3), POSTGRES, { newKeys: false }).kind, 'stage');
});

test('the shape leaves out the half of the guarded statement a load does not need', () => {
  assert.equal(applyShape(changes(plain, 10)), 'upserts');
  assert.equal(applyShape(changes(plain, 10, 1)), 'deletes');
  assert.equal(applyShape(changes(plain, 10, 3)), 'both');
  const load = plan(plain, changes(plain, 100, 3), POSTGRES, { newKeys: false });
  assert.deepEqual([load.kind, 'shape' in load ? load.shape : undefined], ['stage', 'both']);
});

test('new keys: from newKeysMin upserts with no delete, and only when the back-off allows', () => {
  const many = changes(plain, 500);
  assert.ok(newKeysCandidate(many, POSTGRES));
  assert.equal(plan(plain, many, POSTGRES, { newKeys: true }).kind, 'newKeys');
  assert.equal(plan(plain, many, POSTGRES, { newKeys: false }).kind, 'stage');
  assert.ok(!newKeysCandidate(changes(plain, 499), POSTGRES));
  assert.equal(plan(plain, changes(plain, 499), POSTGRES, { newKeys: true }).kind, 'stage');
  const withDelete = changes(plain, 3000, 1000);
  assert.ok(!newKeysCandidate(withDelete, POSTGRES));
  assert.equal(plan(plain, withDelete, POSTGRES, { newKeys: true }).kind, 'stage');
  assert.ok(!newKeysCandidate(many, PGLITE));
  assert.equal(plan(plain, many, PGLITE, { newKeys: true }).kind, 'stage');
});

test('a dialect without COPY loads rows, whatever the size', () => {
  for (const n of [1, 64, 5000]) assert.equal(plan(plain, changes(plain, n), MYSQL, { newKeys: true }).kind, 'rows');
});
