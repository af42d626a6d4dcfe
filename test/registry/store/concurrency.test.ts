/**
 * Two registry processes on one PostgreSQL database registering at the same moment: one id per
 * distinct schema, and each subject's versions 1..n with no gap and no duplicate.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { RegistryStore } from '../../../src/registry/store/index.js';
import { openStateStore, type SqlStore } from '../../../src/state/index.js';
import { scratchPostgres, type ScratchDatabase } from './test-stores.js';

const setup = await scratchPostgres();
const skip = 'skip' in setup ? setup.skip : false;

const shared = JSON.stringify({ type: 'record', name: 'Shared', namespace: 'race', fields: [{ name: 'id', type: 'long' }] });
/** Pairwise BACKWARD-compatible in any order: each adds one field with a default. */
const variant = (i: number) =>
  JSON.stringify({
    type: 'record',
    name: 'Many',
    namespace: 'race',
    fields: [
      { name: 'id', type: 'long' },
      { name: `f${i}`, type: 'int', default: i },
    ],
  });

interface Result {
  subject: string;
  schema: string;
  id?: number;
  version?: number;
  error?: string;
}

function jobs(prefix: string, n: number): Array<{ subject: string; schema: string }> {
  const list = [
    ...Array.from({ length: 4 }, (_, i) => ({ subject: `${prefix}-same-${i}`, schema: shared })),
    ...Array.from({ length: n }, (_, i) => ({ subject: `${prefix}-many`, schema: variant(i) })),
  ];
  // Each process registers the same work in its own order.
  return list.sort(() => Math.random() - 0.5);
}

async function checkOutcome(registry: RegistryStore, prefix: string, n: number, results: Result[]): Promise<void> {
  const failed = results.filter((r) => r.error !== undefined);
  assert.deepEqual(failed, [], 'no registration failed');
  // One id per distinct schema, whoever registered it.
  const idsBySchema = new Map<string, Set<number>>();
  for (const r of results) idsBySchema.set(r.schema, (idsBySchema.get(r.schema) ?? new Set()).add(r.id!));
  for (const [schema, ids] of idsBySchema) assert.equal(ids.size, 1, `one id for ${schema}`);
  const distinctIds = new Set([...idsBySchema.values()].map((s) => [...s][0]));
  assert.equal(distinctIds.size, n + 1);
  // The shared schema: version 1 in each of its subjects.
  for (let i = 0; i < 4; i++) assert.deepEqual(await registry.listVersions(`${prefix}-same-${i}`, true), [1]);
  // The subject raced with different schemas: versions 1..n, one per schema, no gap, no duplicate.
  const versions = await registry.listVersions(`${prefix}-many`, true);
  assert.deepEqual(
    versions,
    Array.from({ length: n }, (_, i) => i + 1),
  );
  const idsByVersion = await Promise.all(versions.map(async (v) => (await registry.getVersion(`${prefix}-many`, v, true)).id));
  assert.equal(new Set(idsByVersion).size, n);
  for (let i = 0; i < n; i++) assert.ok(idsByVersion.includes([...idsBySchema.get(variant(i))!][0]!));
}

describe('concurrent registration on one PostgreSQL database', { skip }, () => {
  const db = setup as ScratchDatabase;
  let store: SqlStore;
  let registry: RegistryStore;
  before(async () => {
    store = await openStateStore({ url: db.url });
    registry = new RegistryStore(store);
  });
  after(async () => {
    await store?.close();
    await db.drop();
  });

  test('two stores (two pools) in one process', async () => {
    const other = await openStateStore({ url: db.url });
    try {
      const n = 8;
      const a = jobs('pools', n);
      const b = jobs('pools', n);
      const otherRegistry = new RegistryStore(other);
      const results = await Promise.all([
        ...a.map(async (j) => ({ ...j, ...(await registry.register(j.subject, { schema: j.schema })) })),
        ...b.map(async (j) => ({ ...j, ...(await otherRegistry.register(j.subject, { schema: j.schema })) })),
      ]);
      await checkOutcome(registry, 'pools', n, results);
    } finally {
      await other.close();
    }
  });

  test('two child processes', async () => {
    const n = 10;
    const worker = fileURLToPath(new URL('./register-worker.ts', import.meta.url));
    const children = [jobs('procs', n), jobs('procs', n)].map((list) =>
      spawn(process.execPath, ['--import', 'tsx', worker, db.url, JSON.stringify(list)], { stdio: ['pipe', 'pipe', 'inherit'] }),
    );
    const outputs = children.map((child) => {
      let text = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => (text += d));
      return { child, text: () => text };
    });
    // Wait until both have opened their stores (and raced through the migrations), then start both.
    await Promise.all(
      outputs.map(
        (o) =>
          new Promise<void>((resolve, reject) => {
            const check = () => (o.text().includes('ready\n') ? resolve() : undefined);
            o.child.stdout.on('data', check);
            o.child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
            check();
          }),
      ),
    );
    for (const o of outputs) o.child.stdin.write('go\n');
    await Promise.all(outputs.map((o) => once(o.child, 'exit')));
    for (const o of outputs) assert.equal(o.child.exitCode, 0);
    const results = outputs.flatMap((o) => JSON.parse(o.text().split('\n')[1]!) as Result[]);
    assert.equal(results.length, 2 * (n + 4));
    await checkOutcome(registry, 'procs', n, results);
  });
});
