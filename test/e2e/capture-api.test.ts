// Application-level capture without an outbox in the source: changes posted to `sluice run`'s
// HTTP API (and through the SDK) are buffered in the state store's outbox, answered once durable,
// and applied to a real PostgreSQL target by the direct transport.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { runPipeline, type RunningPipeline } from '../../src/pipeline/run.js';
import { createCapture } from '../../src/capture/sdk/index.js';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { waitFor } from '../support/kafka.js';
import { skipUnless } from '../support/services.js';

describe('capture API → state outbox → direct → PostgreSQL', { skip: skipUnless(await postgresAvailable(), POSTGRES_WHAT) }, () => {
  let dst: ScratchPostgres;
  let pipeline: RunningPipeline;
  const stateDir = mkdtempSync(join(tmpdir(), 'sluice-api-'));
  before(
    async () => {
      dst = await scratchPostgres();
      await dst.pool.query(
        'CREATE TABLE coupon (id bigint PRIMARY KEY, code text NOT NULL, discount numeric(10,2) NOT NULL, valid_until timestamptz(6))',
      );
      pipeline = await runPipeline(
        parseConfig({
          name: 'api-e2e',
          state: { dataDir: stateDir },
          source: { connector: 'api', tables: ['coupon'], pollIntervalMs: 20 },
          api: { port: 0, token: 'secret-token' },
          transport: { kind: 'direct' },
          target: { connection: { dialect: 'postgres', url: dst.url } },
        }),
        pino({ level: 'silent' }),
      );
    },
    { timeout: 120_000 },
  );
  after(async () => {
    await pipeline?.stop();
    await dst?.drop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  test('posted changes are applied in order; an invalid batch is refused whole with the field named', async () => {
    const post = (body: unknown, token = 'secret-token') =>
      fetch(`${pipeline.apiUrl}/v1/changes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    const ok = await post({
      changes: [
        {
          table: 'coupon',
          op: 'c',
          row: { id: '9007199254740993', code: 'A', discount: '1.50', valid_until: '2030-01-01T00:00:00.000001Z' },
        },
        { table: 'coupon', op: 'u', row: { id: '9007199254740993', code: 'A2', discount: '2.50', valid_until: null } },
        { table: 'coupon', op: 'c', row: { id: 2, code: 'B', discount: '3', valid_until: null } },
      ],
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { accepted: 3 });
    const bad = await post({
      changes: [
        { table: 'coupon', op: 'c', row: { id: 3, code: 'C', discount: '1', valid_until: null } },
        { table: 'coupon', op: 'c', row: { id: 4, code: 'D', discount: 'lots', valid_until: null } },
      ],
    });
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { items: Array<{ field: string }> };
    assert.deepEqual(
      body.items.map((i) => i.field),
      ['changes[1].row.discount'],
    );
    assert.equal((await post({ table: 'coupon', op: 'd', key: { id: 2 } }, 'wrong')).status, 401);
    const del = await post({ table: 'coupon', op: 'd', key: { id: 2 } });
    assert.equal(del.status, 200);
    await waitFor(
      async () =>
        (await dst.pool.query("SELECT count(*)::int AS n FROM coupon WHERE code = 'A2'")).rows[0].n === 1 &&
        (await dst.pool.query('SELECT count(*)::int AS n FROM coupon')).rows[0].n === 1,
      'changes applied',
    );
    const rows = (await dst.pool.query('SELECT id::text, code, discount::text, valid_until FROM coupon')).rows;
    assert.deepEqual(rows, [{ id: '9007199254740993', code: 'A2', discount: '2.50', valid_until: null }]);
  });

  test('the SDK delivers in call order and never throws into the caller', async () => {
    const capture = createCapture({ url: pipeline.apiUrl!, token: 'secret-token' });
    const results = await Promise.all([
      capture.table('coupon').insert({ id: 10, code: 'X', discount: '1', valid_until: null }),
      capture.table('coupon').update({ id: 10, code: 'Y', discount: '2', valid_until: null }),
      capture.table('coupon').insert({ id: 11, code: 'Z', discount: 'not a number', valid_until: null }),
    ]);
    assert.deepEqual(
      results.map((r) => r.ok),
      [true, true, false],
    );
    await capture.close();
    await waitFor(async () => (await dst.pool.query('SELECT code FROM coupon WHERE id = 10')).rows[0]?.code === 'Y', 'SDK changes applied');
    assert.equal((await dst.pool.query('SELECT count(*)::int AS n FROM coupon WHERE id = 11')).rows[0].n, 0);
  });

  test("GET /metrics: Prometheus text with the pipeline's counters, behind the token", async () => {
    const scrape = async () => {
      const res = await fetch(`${pipeline.apiUrl}/metrics`, { headers: { authorization: 'Bearer secret-token' } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      return (name: string) => {
        const m = new RegExp(`^${name}\\{pipeline="api-e2e"\\} (\\S+)$`, 'm').exec(text);
        assert.ok(m, `${name} is exported`);
        return Number(m[1]);
      };
    };
    assert.equal((await fetch(`${pipeline.apiUrl}/metrics`)).status, 401);
    const before = await scrape();
    const applied0 = before('sluice_changes_applied_total');
    const res = await fetch(`${pipeline.apiUrl}/v1/changes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer secret-token' },
      body: JSON.stringify({ table: 'coupon', op: 'c', row: { id: 20, code: 'M', discount: '1', valid_until: null } }),
    });
    assert.equal(res.status, 200);
    await waitFor(async () => (await scrape())('sluice_changes_applied_total') === applied0 + 1, 'the applied counter counts the change');
    const after = await scrape();
    assert.ok(after('sluice_changes_captured_total') >= applied0 + 1);
    assert.ok(after('sluice_replication_lag_seconds') >= 0);
    assert.equal(after('sluice_source_backlog') >= 0, true);
    assert.match(
      await (await fetch(`${pipeline.apiUrl}/metrics`, { headers: { authorization: 'Bearer secret-token' } })).text(),
      /^sluice_process_resident_memory_bytes \d+/m,
    );
  });
});
