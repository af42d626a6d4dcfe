import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isSluiceError } from '../../src/core/errors.js';
import { MIGRATIONS, openStateStore, runMigrations, withConflictRetry, type SqlStore } from '../../src/state/index.js';
import { scratchPostgres, tempPglite, type ScratchDatabase, type TempPglite } from '../registry/store/test-stores.js';

const pgSetup = await scratchPostgres();
const pgSkip = 'skip' in pgSetup ? pgSetup.skip : false;

/** The same contract, run on each implementation. */
function contract(name: string, open: () => Promise<{ store: SqlStore; done(): Promise<void> }>, skip: string | false = false): void {
  describe(`SqlStore contract: ${name}`, { skip }, () => {
    let store: SqlStore;
    let done: () => Promise<void>;
    before(async () => {
      ({ store, done } = await open());
      await store.query('CREATE TABLE IF NOT EXISTS t_contract (k text PRIMARY KEY, n integer NOT NULL)');
    });
    after(async () => done());

    test('binds values as parameters, never as SQL', async () => {
      const evil = "x'); DROP TABLE t_contract; --";
      await store.query('INSERT INTO t_contract (k, n) VALUES ($1, $2)', [evil, 1]);
      const rows = await store.query<{ k: string; n: number }>('SELECT k, n FROM t_contract WHERE k = $1', [evil]);
      assert.deepEqual(rows, [{ k: evil, n: 1 }]);
    });

    test('a transaction commits when its function resolves and rolls back when it throws', async () => {
      await store.transaction(async (tx) => {
        await tx.query('INSERT INTO t_contract (k, n) VALUES ($1, $2)', ['committed', 1]);
      });
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.query('INSERT INTO t_contract (k, n) VALUES ($1, $2)', ['rolled-back', 1]);
          throw new Error('boom');
        }),
        /boom/,
      );
      const keys = (await store.query<{ k: string }>("SELECT k FROM t_contract WHERE k IN ('committed', 'rolled-back')")).map((r) => r.k);
      assert.deepEqual(keys, ['committed']);
    });

    test('concurrent read-modify-write transactions under an advisory lock lose no update', async () => {
      await store.query('INSERT INTO t_contract (k, n) VALUES ($1, 0)', ['counter']);
      await Promise.all(
        Array.from({ length: 5 }, () =>
          store.transaction(async (tx) => {
            await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', ['counter']);
            const [row] = await tx.query<{ n: number }>('SELECT n FROM t_contract WHERE k = $1', ['counter']);
            await new Promise((r) => setTimeout(r, 5));
            await tx.query('UPDATE t_contract SET n = $2 WHERE k = $1', ['counter', row!.n + 1]);
          }),
        ),
      );
      const [row] = await store.query<{ n: number }>('SELECT n FROM t_contract WHERE k = $1', ['counter']);
      assert.equal(row!.n, 5);
    });

    test('migrations ran at open and running them again applies nothing', async () => {
      assert.deepEqual(await runMigrations(store), []);
      const ids = (await store.query<{ id: string }>('SELECT id FROM sluice_state_migrations ORDER BY id')).map((r) => r.id);
      assert.deepEqual(
        ids,
        MIGRATIONS.map((m) => m.id),
      );
      const tables = await store.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name LIKE 'sluice_registry_%'",
      );
      assert.equal(tables[0]!.n, 6);
    });

    test('withConflictRetry runs the transaction again after a unique violation', async () => {
      let attempts = 0;
      const result = await withConflictRetry(store, async (tx) => {
        attempts++;
        await tx.query('INSERT INTO t_contract (k, n) VALUES ($1, $2)', [`retry-${attempts}`, attempts]);
        if (attempts === 1) await tx.query('INSERT INTO t_contract (k, n) VALUES ($1, 0)', ['counter']); // duplicate key
        return attempts;
      });
      assert.equal(result, 2);
      const keys = (await store.query<{ k: string }>("SELECT k FROM t_contract WHERE k LIKE 'retry-%'")).map((r) => r.k);
      assert.deepEqual(keys, ['retry-2']);
    });
  });
}

contract('PGlite', async () => {
  const p: TempPglite = await tempPglite();
  return { store: p.store, done: () => p.cleanup() };
});

contract(
  'PostgreSQL',
  async () => {
    const db = pgSetup as ScratchDatabase;
    const store = await openStateStore({ url: db.url });
    return {
      store,
      async done() {
        await store.close();
        await db.drop();
      },
    };
  },
  pgSkip,
);

test('openStateStore refuses a URL that is not postgres://', async () => {
  await assert.rejects(openStateStore({ url: 'mysql://localhost/x' }), (err) => isSluiceError(err, 'SLUICE_ERR_CONFIG'));
});
