import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isSluiceError } from '../../src/core/errors.js';
import { ReportStore } from '../../src/reconcile/report-store.js';
import type { ReconcileReport } from '../../src/reconcile/report.js';
import { driftReport, reconcileReport, tableReport } from './report-fixture.js';
import { openStateStore, type SqlStore } from '../../src/state/index.js';
import { postgresAvailable, POSTGRES_WHAT, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { skipUnless } from '../support/services.js';

function inSyncReport(over: Partial<ReconcileReport> = {}): ReconcileReport {
  return reconcileReport(
    [
      tableReport(),
      tableReport({
        table: 'public.items',
        target: 'shop.items',
        inFlight: 2,
        keys: { missing: [], extra: [], different: [], inFlight: ['4', '5'] },
      }),
    ],
    over,
  );
}

// ---- the same checks on each state store ----

function contract(name: string, open: () => Promise<{ store: SqlStore; done(): Promise<void> }>, skip: string | false = false): void {
  describe(`ReportStore on ${name}`, { skip }, () => {
    let store: SqlStore;
    let done: () => Promise<void>;
    let reports: ReportStore;
    before(async () => {
      ({ store, done } = await open());
      reports = new ReportStore(store);
    });
    after(async () => done());

    test('save returns a new id each time, and get returns the report as saved with that id', async () => {
      const drift = driftReport();
      const a = await reports.save(drift);
      const b = await reports.save(inSyncReport());
      assert.equal(typeof a, 'number');
      assert.ok(b > a);
      assert.deepEqual(await reports.get(a), { ...drift, id: a });
      assert.deepEqual(await reports.get(b), { ...inSyncReport(), id: b });
    });

    test('get of an unknown id is undefined', async () => {
      assert.equal(await reports.get(987_654_321), undefined);
      assert.equal(await reports.get(0), undefined);
      assert.equal(await reports.get(1.5), undefined);
    });

    test("latest lists one name's reports newest first, up to the limit, each with its id", async () => {
      const ids: number[] = [];
      for (let i = 0; i < 4; i++) ids.push(await reports.save(inSyncReport({ name: 'hourly', durationMs: i })));
      await reports.save(driftReport({ name: 'other' }));
      const all = await reports.latest('hourly');
      assert.deepEqual(
        all.map((r) => r.id),
        [...ids].reverse(),
      );
      assert.deepEqual(
        all.map((r) => r.durationMs),
        [3, 2, 1, 0],
      );
      assert.ok(all.every((r) => r.name === 'hourly'));
      assert.deepEqual(
        (await reports.latest('hourly', 2)).map((r) => r.id),
        [ids[3], ids[2]],
      );
      assert.deepEqual(await reports.latest('never-ran'), []);
      await assert.rejects(reports.latest('hourly', 0), RangeError);
    });

    test('an id already on the report is ignored: the store assigns its own', async () => {
      const id = await reports.save({ ...driftReport({ name: 'with-id' }), id: 1_000_000 });
      assert.notEqual(id, 1_000_000);
      const [row] = await store.query<{ report_json: string }>('SELECT report_json FROM sluice_reconcile_reports WHERE id = $1', [id]);
      assert.equal('id' in JSON.parse(row!.report_json), false);
      assert.equal((await reports.get(id))!.id, id);
    });

    test("the row's columns hold name, times and the confirmed-drift flag", async () => {
      const drifted = await reports.save(driftReport({ name: 'columns' }));
      const clean = await reports.save(inSyncReport({ name: 'columns' }));
      const rows = await store.query<{ id: string | number; name: string; started: string; finished: string; drift: boolean }>(
        `SELECT id, name, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS started,
                to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS finished, drift
           FROM sluice_reconcile_reports WHERE name = 'columns' ORDER BY id`,
      );
      assert.deepEqual(
        rows.map((r) => ({ ...r, id: Number(r.id) })),
        [
          { id: drifted, name: 'columns', started: '2024-05-01T02:00:00.000', finished: '2024-05-01T02:00:12.345', drift: true },
          { id: clean, name: 'columns', started: '2024-05-01T02:00:00.000', finished: '2024-05-01T02:00:12.345', drift: false },
        ],
      );
    });

    test('a store failure is a SLUICE_ERR_STORE', async () => {
      await assert.rejects(reports.save(driftReport({ startedAt: 'not a time' })), (err) => isSluiceError(err, 'SLUICE_ERR_STORE'));
    });
  });
}

contract('PGlite', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-reconcile-reports-'));
  const store = await openStateStore({ dataDir });
  return {
    store,
    async done() {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});

const pgUp = await postgresAvailable();
contract(
  'PostgreSQL',
  async () => {
    const db: ScratchPostgres = await scratchPostgres();
    const store = await openStateStore({ url: db.url });
    return {
      store,
      async done() {
        await store.close();
        await db.drop();
      },
    };
  },
  skipUnless(pgUp, POSTGRES_WHAT),
);
