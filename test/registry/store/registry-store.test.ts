import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { RegistryStore, type RegistryErrorCode } from '../../../src/registry/store/index.js';
import { openStateStore, type SqlStore } from '../../../src/state/index.js';
import { tempDir } from './test-stores.js';

const record = (name: string, fields: Array<Record<string, unknown>>, namespace = 'com.acme') =>
  JSON.stringify({ type: 'record', name, namespace, fields });
const v1 = record('User', [{ name: 'id', type: 'long' }]);
const v2 = record('User', [
  { name: 'id', type: 'long' },
  { name: 'email', type: ['null', 'string'], default: null },
]);
const v3 = record('User', [
  { name: 'id', type: 'long' },
  { name: 'email', type: ['null', 'string'], default: null },
  { name: 'age', type: 'int', default: 0 },
]);

async function rejectsWith(p: Promise<unknown>, code: RegistryErrorCode): Promise<void> {
  await assert.rejects(p, (err: { errorCode?: number; message?: string }) => {
    assert.equal(err.errorCode, code, err.message);
    return true;
  });
}

describe('RegistryStore on PGlite', () => {
  const dataDir = tempDir();
  let store: SqlStore;
  let registry: RegistryStore;
  before(async () => {
    store = await openStateStore({ dataDir });
    registry = new RegistryStore(store);
  });
  after(async () => {
    await store.close().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a schema served from the id cache is gone once its last version is permanently deleted', async () => {
    const s = record('Cached', [{ name: 'id', type: 'long' }]);
    const { id } = await registry.register('cache-a', { schema: s });
    assert.equal((await registry.getSchemaById(id)).id, id); // now cached
    await registry.deleteSubject('cache-a', false);
    assert.equal((await registry.getSchemaById(id)).id, id, 'a soft-deleted version still serves its id');
    await registry.deleteSubject('cache-a', true);
    await rejectsWith(registry.getSchemaById(id), 40403);
  });

  test('an identical schema registered under another subject gets the same id, and again under its subject the same version', async () => {
    const a = await registry.register('ident-a', { schema: v1 });
    const b = await registry.register('ident-b', { schema: v1 });
    const again = await registry.register('ident-a', { schema: v1 });
    assert.equal(b.id, a.id);
    assert.deepEqual([a.version, b.version, again.version, again.id], [1, 1, 1, a.id]);
    assert.deepEqual(await registry.listVersions('ident-a', false), [1]);
  });

  test('whitespace and attribute order do not make a different schema', async () => {
    const a = await registry.register('canon', { schema: v1 });
    const spaced = `{ "namespace": "com.acme", "fields": [ {"type": "long", "name": "id"} ], "name": "User", "type": "record" }`;
    const b = await registry.register('canon', { schema: spaced });
    assert.deepEqual(b, a);
  });

  test('versions are never reused, even after soft and permanent deletes', async () => {
    const s = 'versions';
    await registry.register(s, { schema: v1 });
    await registry.register(s, { schema: v2 });
    assert.equal(await registry.deleteVersion(s, 2, false), 2);
    assert.equal(await registry.deleteVersion(s, 2, true), 2);
    const r3 = await registry.register(s, { schema: v3 });
    assert.equal(r3.version, 3);
    assert.deepEqual(await registry.deleteSubject(s, false), [1, 3]);
    assert.deepEqual(await registry.deleteSubject(s, true), [1, 3]);
    await rejectsWith(registry.listVersions(s, true), 40401);
    const again = await registry.register(s, { schema: v1 });
    assert.equal(again.version, 4);
  });

  test('re-registering a soft-deleted schema makes a new version and drops the soft-deleted one', async () => {
    const s = 'resurrect';
    const first = await registry.register(s, { schema: v1 });
    await registry.register(s, { schema: v2 });
    await registry.deleteVersion(s, 1, false);
    const back = await registry.register(s, { schema: v1 });
    assert.equal(back.id, first.id);
    assert.equal(back.version, 3);
    assert.deepEqual(await registry.listVersions(s, true), [2, 3]);
  });

  test('a schema id stays readable after a soft delete and is gone after the permanent one', async () => {
    const s = 'id-life';
    const only = await registry.register(s, { schema: record('Lonely', [{ name: 'x', type: 'string' }]) });
    await registry.deleteSubject(s, false);
    assert.equal((await registry.getSchemaById(only.id)).id, only.id);
    assert.deepEqual(await registry.subjectsForId(only.id, false), []);
    assert.deepEqual(await registry.subjectsForId(only.id, true), [s]);
    await registry.deleteSubject(s, true);
    await rejectsWith(registry.getSchemaById(only.id), 40403);
    const next = await registry.register('id-life-2', { schema: record('Other', [{ name: 'x', type: 'string' }]) });
    assert.ok(next.id > only.id);
  });

  test('references: the text names the referenced type, lookups accept the expanded schema, and referenced versions cannot be deleted', async () => {
    const color = JSON.stringify({ type: 'enum', name: 'Color', namespace: 'com.acme', symbols: ['RED', 'GREEN'] });
    const c = await registry.register('ref-color', { schema: color });
    const car = JSON.stringify({ type: 'record', name: 'Car', namespace: 'com.acme', fields: [{ name: 'paint', type: 'Color' }] });
    const refs = [{ name: 'com.acme.Color', subject: 'ref-color', version: 1 }];
    const r = await registry.register('ref-car', { schema: car, references: refs });
    assert.equal(r.schema, car);
    assert.deepEqual(r.references, refs);
    assert.deepEqual(await registry.referencedBy('ref-color', 1, false), [r.id]);
    await rejectsWith(registry.deleteVersion('ref-color', 1, false), 42206);
    await rejectsWith(registry.deleteSubject('ref-color', false), 42206);

    const expanded = JSON.stringify({
      type: 'record',
      name: 'Car',
      namespace: 'com.acme',
      fields: [{ name: 'paint', type: JSON.parse(color) }],
    });
    const found = await registry.lookup('ref-car', { schema: expanded });
    assert.deepEqual([found.id, found.version], [r.id, 1]);
    await rejectsWith(
      registry.register('ref-bad', { schema: car, references: [{ name: 'com.acme.Color', subject: 'ref-color', version: 9 }] }),
      42201,
    );
    await rejectsWith(registry.register('ref-none', { schema: car }), 42201);
    assert.notEqual(c.id, r.id);
  });

  test('normalize=true stores the normalized text and finds schemas that only spell names differently', async () => {
    const a = await registry.register('norm', { schema: v1 }, { normalize: true });
    assert.equal(a.schema, JSON.stringify({ type: 'record', name: 'com.acme.User', fields: [{ name: 'id', type: 'long' }] }));
    const spelled = JSON.stringify({ type: 'record', name: 'com.acme.User', fields: [{ name: 'id', type: 'long' }] });
    const found = await registry.lookup('norm', { schema: spelled }, { normalize: true });
    assert.deepEqual([found.id, found.version], [a.id, 1]);
  });

  test('IMPORT mode takes explicit ids and versions and moves the id sequence past them', async () => {
    await registry.register('live', { schema: v1 });
    await rejectsWith(registry.setMode(null, 'IMPORT', false), 42205);
    await rejectsWith(registry.register('imp', { schema: v1, id: 500, version: 7 }), 42205); // not in import mode
    assert.equal(await registry.setMode('imp', 'IMPORT', false), 'IMPORT');
    const imported = await registry.register('imp', { schema: record('Imported', [{ name: 'a', type: 'int' }]), id: 500, version: 7 });
    assert.deepEqual([imported.id, imported.version], [500, 7]);
    await rejectsWith(registry.register('imp', { schema: record('Imported2', [{ name: 'a', type: 'int' }]) }), 42205); // no id in IMPORT
    await rejectsWith(registry.register('imp', { schema: record('Clash', [{ name: 'a', type: 'int' }]), id: 500, version: 8 }), 42205);
    await registry.deleteMode('imp');
    const after = await registry.register('imp', {
      schema: record('Imported', [
        { name: 'a', type: 'int' },
        { name: 'b', type: 'int', default: 1 },
      ]),
    });
    assert.equal(after.id, 501);
    assert.equal(after.version, 8);
  });

  test('compatibility: a BACKWARD-incompatible schema is refused with 409 naming the field, allowed at NONE', async () => {
    await registry.register('compat', { schema: v1 });
    const bad = record('User', [
      { name: 'id', type: 'long' },
      { name: 'nickname', type: 'string' },
    ]);
    await assert.rejects(registry.register('compat', { schema: bad }), (err: { errorCode?: number; message?: string }) => {
      assert.equal(err.errorCode, 409);
      assert.match(err.message!, /nickname/);
      assert.match(err.message!, /compatibility: 'BACKWARD'/);
      return true;
    });
    await registry.setCompatibility('compat', 'none');
    assert.equal((await registry.register('compat', { schema: bad })).version, 2);
  });

  test('restart: ids and versions survive closing and reopening the data directory', async () => {
    const before1 = await registry.register('restart', { schema: v1 });
    const before2 = await registry.register('restart', { schema: v2 });
    await store.close();
    store = await openStateStore({ dataDir });
    registry = new RegistryStore(store);
    const got = await registry.getVersion('restart', -1, false);
    assert.deepEqual([got.id, got.version], [before2.id, 2]);
    assert.equal((await registry.getSchemaById(before1.id)).schema, v1);
    assert.deepEqual(await registry.register('restart', { schema: v1 }), before1);
    const third = await registry.register('restart', { schema: v3 });
    assert.equal(third.version, 3);
    assert.ok(third.id > before2.id);
  });
});
