// The dashboard in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core;
// no browser is ever downloaded) against a running PostgreSQL → PostgreSQL pipeline: it loads, the
// charts draw data, a planted dead letter shows its decoded record beside the target's row, Replay
// applies it once its cause is fixed, Skip releases its key, a reconcile started from the page
// shows its report. Screenshots of each page land in docs/screenshots/. Without the token every
// state-changing request answers 401 and changes nothing. A lag alert fires at a local webhook
// receiver while a target row is locked, and resolves after.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { parseConfig } from '../../src/config/load.js';
import { runPipeline, type RunningPipeline } from '../../src/pipeline/run.js';
import { createOutboxWriter } from '../../src/capture/outbox/writer.js';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { waitFor } from '../support/kafka.js';
import { skipUnless } from '../support/services.js';
import { CHROMIUM, CHROMIUM_ARGS, SHOTS } from './dashboard-browser.js';

// Functions given to page.waitForFunction run in the page, where `document` exists (tsconfig has no DOM lib).
declare const document: {
  getElementById(id: string): { textContent: string | null } | null;
  querySelector(selector: string): { textContent: string | null } | null;
  body: { dataset: Record<string, string | undefined> };
};

const TOKEN = 'dashboard-test-token';
const ready = (await postgresAvailable()) && existsSync(CHROMIUM);
const why = existsSync(CHROMIUM) ? POSTGRES_WHAT : `${POSTGRES_WHAT} and Chromium at ${CHROMIUM} (apt-get install chromium)`;

describe('dashboard in headless Chromium', { skip: skipUnless(ready, why) }, () => {
  let src: ScratchPostgres;
  let dst: ScratchPostgres;
  let state: ScratchPostgres;
  let pipeline: RunningPipeline | undefined;
  let browser: Browser | undefined;
  const writer = createOutboxWriter({ dialect: 'postgres' });

  before(async () => {
    [src, dst, state] = await Promise.all([scratchPostgres(), scratchPostgres(), scratchPostgres()]);
    const ddl = 'CREATE TABLE coupon (id bigint PRIMARY KEY, discount numeric(10,2) NOT NULL, code text NOT NULL)';
    await src.pool.query(ddl);
    await src.pool.query(writer.ddl);
    await dst.pool.query(`${ddl}; ALTER TABLE coupon ADD CONSTRAINT discount_cap CHECK (discount < 100)`);
    const cfg = parseConfig({
      name: 'dashboard-e2e',
      source: { connector: 'outbox', connection: { dialect: 'postgres', url: src.url }, tables: ['coupon'], pollIntervalMs: 20 },
      transport: { kind: 'direct' },
      target: { connection: { dialect: 'postgres', url: dst.url } },
      state: { url: state.url },
      observe: { port: 0, token: TOKEN },
    });
    pipeline = await runPipeline(cfg, pino({ level: 'silent' }));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await pipeline?.stop().catch(() => {});
    await Promise.all([src?.drop(), dst?.drop(), state?.drop()]);
  });

  const row = async (id: number) =>
    (await dst.pool.query<{ discount: string }>('SELECT discount::text AS discount FROM coupon WHERE id = $1', [id])).rows[0]?.discount;

  test(
    'loads, charts draw, dead letters replay and skip, reconcile from the page; 401 without the token',
    { timeout: 180_000 },
    async () => {
      const p = pipeline!;
      const url = p.observeUrl!;
      // 300 coupons in 3 transactions, then two poison changes (the target caps discount below 100).
      for (let b = 0; b < 3; b++)
        await writer.write(
          src.pool,
          Array.from({ length: 100 }, (_, i) => ({
            table: 'coupon',
            op: 'c' as const,
            row: { id: b * 100 + i + 1, discount: '5.00', code: `C${b * 100 + i + 1}` },
          })),
        );
      await writer.write(src.pool, [{ table: 'coupon', op: 'c', row: { id: 1000, discount: '500.00', code: 'REPLAY-ME' } }]);
      await writer.write(src.pool, [{ table: 'coupon', op: 'c', row: { id: 1001, discount: '600.00', code: 'SKIP-ME' } }]);
      await waitFor(() => p.stats.deadLettered >= 2, 'both poison changes dead-lettered');
      // A later change of 1001 waits behind its dead letter until it is skipped.
      await writer.write(src.pool, [{ table: 'coupon', op: 'u', row: { id: 1001, discount: '50.00', code: 'SKIP-ME' } }]);
      await waitFor(() => p.stats.deadLettered >= 3, 'the later change of 1001 parked');

      const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
      page.on('dialog', (d) => void d.accept());
      try {
        // Overview: topology and charts with data (three history samples make two points).
        await page.goto(url);
        await page.waitForSelector('#topology tbody tr[data-table="public.coupon"]');
        await page.waitForFunction(() => Number(document.body.dataset.chartPoints ?? 0) >= 2, undefined, { timeout: 60_000 });
        assert.equal(await page.locator('#chart-throughput canvas').count(), 1);
        assert.equal(await page.locator('#chart-lag canvas').count(), 1);
        assert.match(await page.locator('#topology').innerText(), /public\.coupon[\s\S]*303/);
        assert.equal(await page.locator('#state').innerText(), 'running');
        // Each stage's lag per table: the direct transport has no published stage.
        assert.match(await page.locator('#topology thead').innerText(), /lag: captured\s+published\s+applied/);
        const stages = await page.locator('#topology tbody tr[data-table="public.coupon"] td[data-stage]').allInnerTexts();
        assert.equal(stages.length, 3);
        assert.match(stages[0]!, /^\d+(\.\d)? (ms|s|min)$/);
        assert.equal(stages[1], '–');
        assert.match(stages[2]!, /^\d+(\.\d)? (ms|s|min)$/);
        const doc = (await (await fetch(`${url}/api/status`)).json()) as {
          tables: Array<{ table: string; stageLagSeconds: { captured: number; published: number | null; applied: number } }>;
        };
        const coupon = doc.tables.find((t) => t.table === 'public.coupon')!;
        assert.equal(coupon.stageLagSeconds.published, null);
        assert.equal(typeof coupon.stageLagSeconds.applied, 'number');
        await page.screenshot({ path: new URL('overview.png', SHOTS).pathname, fullPage: true });

        // Without the token (or with a wrong one) every state-changing request answers 401 and changes nothing.
        const dls = (await (await fetch(`${url}/api/dead-letters`)).json()) as Array<{ id: number; keyText: string }>;
        const replayId = dls.find((d) => d.keyText.includes('1000'))!.id;
        const skipId = dls.find((d) => d.keyText.includes('1001'))!.id;
        await dst.pool.query('ALTER TABLE coupon DROP CONSTRAINT discount_cap'); // so a replay that got through would apply
        for (const auth of [undefined, 'Bearer wrong-token', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`]) {
          for (const path of [`/api/dead-letters/${replayId}/replay`, `/api/dead-letters/${skipId}/skip`, '/api/reconcile', '/api/auth']) {
            const res = await fetch(`${url}${path}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
              body: '{"repair":true}',
            });
            assert.equal(res.status, 401, `${path} with ${auth ?? 'no authorization'}`);
          }
        }
        for (const id of [replayId, skipId])
          assert.equal(((await (await fetch(`${url}/api/dead-letters/${id}`)).json()) as { status: string }).status, 'open');
        assert.equal(((await (await fetch(`${url}/api/reconcile`)).json()) as { running: boolean }).running, false);
        assert.deepEqual(await (await fetch(`${url}/api/reconcile/reports`)).json(), []);
        assert.equal(await row(1000), undefined);
        await dst.pool.query('ALTER TABLE coupon ADD CONSTRAINT discount_cap CHECK (discount < 100)');

        // Dead letters: the token, the decoded record beside the target's row.
        await page.goto(`${url}/#dead-letters`);
        await page.fill('#token', TOKEN);
        await page.click('#token-form button');
        await page.waitForSelector('#token-state.ok');
        await page.click(`#dl-list tr[data-id="${replayId}"]`);
        await page.waitForFunction(() => document.getElementById('dl-record')!.textContent!.includes('REPLAY-ME'));
        assert.match(await page.locator('#dl-record').innerText(), /"discount": "500\.00"/);
        assert.match(await page.locator('#dl-target').innerText(), /no row for this key/);
        assert.match(await page.locator('#dl-error').innerText(), /discount_cap/);
        await page.screenshot({ path: new URL('dead-letters.png', SHOTS).pathname, fullPage: true });

        // Replay before the fix: it fails again and stays open.
        await page.click('#dl-replay');
        await page.waitForFunction(() => document.getElementById('dl-result')!.textContent!.startsWith('failed again'));
        assert.equal(await row(1000), undefined);
        // Fix the cause, replay: the row appears on the target.
        await dst.pool.query('ALTER TABLE coupon DROP CONSTRAINT discount_cap');
        await page.click('#dl-replay');
        await page.waitForFunction(() => document.getElementById('dl-result')!.textContent!.startsWith('replayed'));
        assert.equal(await row(1000), '500.00');

        // Skip 1001: its insert is dropped, the parked update is applied (the key is released).
        await page.click(`#dl-list tr[data-id="${skipId}"]`);
        await page.waitForFunction(() => document.getElementById('dl-record')!.textContent!.includes('SKIP-ME'));
        assert.match(await page.locator('#dl-parked').innerText(), /1 later change/);
        await page.click('#dl-skip');
        await page.waitForFunction(() => document.getElementById('dl-result')!.textContent!.startsWith('skipped'));
        assert.equal(await row(1001), '50.00');
        // The key flows again: a new change of 1001 is applied directly.
        await writer.write(src.pool, [{ table: 'coupon', op: 'u', row: { id: 1001, discount: '51.00', code: 'SKIP-ME' } }]);
        await waitFor(async () => (await row(1001)) === '51.00', 'a later change of the released key applied');

        // Reconcile from the page, with drift planted on the target (a row deleted behind sluice's back).
        // The outbox writer wrote only the changes: the source's own rows, as the application would have.
        await src.pool.query("INSERT INTO coupon SELECT g, 5.00, 'C' || g FROM generate_series(1, 300) g");
        await src.pool.query("INSERT INTO coupon VALUES (1000, 500.00, 'REPLAY-ME'), (1001, 51.00, 'SKIP-ME')");
        await dst.pool.query('DELETE FROM coupon WHERE id = 7');
        await page.goto(`${url}/#reconcile`);
        await page.click('#rc-start');
        await page.waitForSelector('#rc-reports tbody tr[data-id]', { timeout: 120_000 });
        await page.click('#rc-reports tbody tr[data-id]');
        await page.waitForSelector('#rc-detail:not([hidden])');
        const detail = await page.locator('#rc-tables').innerText();
        assert.match(detail, /public\.coupon/);
        assert.match(detail, /missing: .*7/);
        await page.screenshot({ path: new URL('reconcile.png', SHOTS).pathname, fullPage: true });

        // Registry: the direct transport has none, and the page says so.
        await page.goto(`${url}/#registry`);
        await page.waitForFunction(() => document.querySelector('#subjects tbody')!.textContent!.includes('not available'));
      } finally {
        await page.close().catch(() => {});
      }
    },
  );
});

/** A local webhook receiver: each POSTed JSON body, awaitable by predicate. */
function receiver(): Promise<{
  url: string;
  server: Server;
  next(pred: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}> {
  const got: Array<Record<string, unknown>> = [];
  const waiters: Array<{ pred: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const m = JSON.parse(body) as Record<string, unknown>;
      got.push(m);
      for (const w of [...waiters])
        if (w.pred(m)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      res.end('ok');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
        server,
        next: (pred) => {
          const hit = got.find(pred);
          return hit ? Promise.resolve(hit) : new Promise((r) => waiters.push({ pred, resolve: r }));
        },
      }),
    ),
  );
}

describe('lag alert', { skip: skipUnless(await postgresAvailable(), POSTGRES_WHAT) }, () => {
  test(
    'a target row locked: the lag alert fires at the webhook, and resolves once the lock is released',
    { timeout: 120_000 },
    async () => {
      const [src, dst] = await Promise.all([scratchPostgres(), scratchPostgres()]);
      const hook = await receiver();
      let pipeline: RunningPipeline | undefined;
      const locker = await dst.pool.connect();
      try {
        const writer = createOutboxWriter({ dialect: 'postgres' });
        const ddl = 'CREATE TABLE coupon (id bigint PRIMARY KEY, discount numeric(10,2) NOT NULL)';
        await src.pool.query(`${ddl}; ${writer.ddl}`);
        await dst.pool.query(ddl);
        pipeline = await runPipeline(
          parseConfig({
            name: 'lag-alert',
            source: { connector: 'outbox', connection: { dialect: 'postgres', url: src.url }, tables: ['coupon'], pollIntervalMs: 20 },
            transport: { kind: 'direct' },
            target: { connection: { dialect: 'postgres', url: dst.url } },
            observe: { port: 0, alerts: { lagSeconds: 1, forSeconds: 1, deadLetters: false, minIntervalSeconds: 0 } },
            reconcile: { alert: { webhook: { url: hook.url } } },
          }),
          pino({ level: 'silent' }),
        );
        const p = pipeline;
        await writer.write(src.pool, [{ table: 'coupon', op: 'c', row: { id: 1, discount: '1.00' } }]);
        await waitFor(() => p.stats.applied >= 1, 'the first change applied');

        // Stall the target: hold the row's lock while the next change of it arrives.
        await locker.query('BEGIN');
        await locker.query('SELECT * FROM coupon WHERE id = 1 FOR UPDATE');
        await writer.write(src.pool, [{ table: 'coupon', op: 'u', row: { id: 1, discount: '2.00' } }]);
        const firing = await hook.next((m) => m.alert === 'replication_lag' && m.status === 'firing');
        assert.equal(firing.pipeline, 'lag-alert');
        assert.ok((firing.value as number) > 1);
        const ready = await fetch(`${p.observeUrl}/readyz`);
        assert.equal(ready.status, 200, 'a short stall is not yet a stalled pipeline (observe.stallSeconds)');

        await locker.query('COMMIT');
        const resolved = await hook.next((m) => m.alert === 'replication_lag' && m.status === 'resolved');
        assert.ok((resolved.value as number) <= 1);
        assert.equal((await dst.pool.query('SELECT discount::text AS d FROM coupon WHERE id = 1')).rows[0].d, '2.00');
      } finally {
        await locker.query('ROLLBACK').catch(() => {});
        locker.release();
        await pipeline?.stop().catch(() => {});
        await new Promise((r) => hook.server.close(r));
        await Promise.all([src.drop(), dst.drop()]);
      }
    },
  );
});
