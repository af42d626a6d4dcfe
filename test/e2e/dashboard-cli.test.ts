// `sluice dashboard -c cfg` beside a running pipeline: it prints its URL first, passes the
// pipeline's status and metrics through, lists the dead letters from the target itself, and a
// replay through it needs the observe token (401 without, and nothing is applied).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { runPipeline, type RunningPipeline } from '../../src/pipeline/run.js';
import { createOutboxWriter } from '../../src/capture/outbox/writer.js';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { waitFor } from '../support/kafka.js';
import { skipUnless } from '../support/services.js';
import { spawnSluice, type SluiceProcess } from '../support/cli.js';

const TOKEN = 'dashboard-cli-token';

describe('sluice dashboard', { skip: skipUnless(await postgresAvailable(), POSTGRES_WHAT) }, () => {
  let src: ScratchPostgres;
  let dst: ScratchPostgres;
  let state: ScratchPostgres;
  let pipeline: RunningPipeline | undefined;
  let dir: string;
  const writer = createOutboxWriter({ dialect: 'postgres' });
  let raw: Record<string, unknown>;

  before(async () => {
    [src, dst, state] = await Promise.all([scratchPostgres(), scratchPostgres(), scratchPostgres()]);
    const ddl = 'CREATE TABLE coupon (id bigint PRIMARY KEY, discount numeric(10,2) NOT NULL)';
    await src.pool.query(`${ddl}; ${writer.ddl}`);
    await dst.pool.query(`${ddl}; ALTER TABLE coupon ADD CONSTRAINT discount_cap CHECK (discount < 100)`);
    raw = {
      name: 'dashboard-cli',
      source: { connector: 'outbox', connection: { dialect: 'postgres', url: src.url }, tables: ['coupon'], pollIntervalMs: 20 },
      transport: { kind: 'direct' },
      target: { connection: { dialect: 'postgres', url: dst.url } },
      state: { url: state.url },
      observe: { port: 0, token: TOKEN },
    };
    pipeline = await runPipeline(parseConfig(raw), pino({ level: 'silent' }));
    dir = mkdtempSync(join(tmpdir(), 'sluice-dashboard-cli-'));
  });
  after(async () => {
    await pipeline?.stop().catch(() => {});
    await Promise.all([src?.drop(), dst?.drop(), state?.drop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('serves the dashboard apart from the pipeline; a replay through it needs the token', { timeout: 120_000 }, async () => {
    const p = pipeline!;
    await writer.write(src.pool, [{ table: 'coupon', op: 'c', row: { id: 1, discount: '5.00' } }]);
    await writer.write(src.pool, [{ table: 'coupon', op: 'c', row: { id: 2, discount: '500.00' } }]);
    await waitFor(() => p.stats.deadLettered >= 1 && p.stats.applied >= 1, 'one change applied, one dead-lettered');

    // JSON is YAML: the config as a user would write it, pointing at the running pipeline's server.
    const cfgFile = join(dir, 'sluice.yaml');
    writeFileSync(
      cfgFile,
      JSON.stringify({ ...raw, observe: { host: '127.0.0.1', port: Number(new URL(p.observeUrl!).port), token: TOKEN } }),
    );
    let dashboard: SluiceProcess | undefined;
    try {
      dashboard = spawnSluice(['dashboard', '-c', cfgFile]);
      const first = await dashboard.line();
      assert.match(first, /^http:\/\/127\.0\.0\.1:\d+$/);
      const url = first;
      assert.notEqual(url, p.observeUrl);

      // Status and metrics come from the running pipeline; features and token are this server's.
      const status = (await (await fetch(`${url}/api/status`)).json()) as {
        pipeline: string;
        state: string;
        totals: { applied: number; deadLettered: number };
        tokenConfigured: boolean;
        features: Record<string, boolean>;
      };
      assert.equal(status.pipeline, 'dashboard-cli');
      assert.equal(status.state, 'running');
      assert.ok(status.totals.deadLettered >= 1 && status.totals.applied >= 1, JSON.stringify(status.totals));
      assert.equal(status.tokenConfigured, true);
      assert.deepEqual(status.features, {
        deadLetters: true,
        reconcile: true,
        registry: false,
        snapshots: false,
        schemaHistory: false,
        // The direct transport has no topic to read messages from.
        messages: false,
      });
      assert.match(await (await fetch(`${url}/metrics`)).text(), /sluice_changes_applied_total\{pipeline="dashboard-cli"\}/);
      const history = await fetch(`${url}/api/history?since=0`);
      assert.equal(history.status, 200);
      assert.ok(Array.isArray(await history.json()));
      assert.match(await (await fetch(`${url}/`)).text(), /<title>sluice<\/title>/);

      const dls = (await (await fetch(`${url}/api/dead-letters`)).json()) as Array<{ id: number; keyText: string; status: string }>;
      const dl = dls.find((d) => d.keyText.includes('2'));
      assert.ok(dl, JSON.stringify(dls));
      await dst.pool.query('ALTER TABLE coupon DROP CONSTRAINT discount_cap'); // a replay that got through would apply
      for (const auth of [undefined, 'Bearer wrong-token']) {
        const res = await fetch(`${url}/api/dead-letters/${dl.id}/replay`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
          body: '{}',
        });
        assert.equal(res.status, 401, auth ?? 'no authorization');
      }
      const discount = async () =>
        (await dst.pool.query('SELECT discount::text AS d FROM coupon WHERE id = 2')).rows[0]?.d as string | undefined;
      assert.equal(await discount(), undefined);
      const replay = await fetch(`${url}/api/dead-letters/${dl.id}/replay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: '{}',
      });
      assert.equal(replay.status, 200, await replay.clone().text());
      assert.equal(((await replay.json()) as { applied: number }).applied, 1);
      assert.equal(await discount(), '500.00');
      assert.equal(((await (await fetch(`${url}/api/dead-letters/${dl.id}`)).json()) as { status: string }).status, 'replayed');

      assert.equal(await dashboard.stop(), 0, dashboard.output());
    } finally {
      await dashboard?.kill();
    }
  });
});
