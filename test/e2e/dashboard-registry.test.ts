// The Registry page's diff in headless Chromium against a PostgreSQL log-capture pipeline on Kafka
// with the embedded registry: a column added at the source registers a second version of the
// table's subject, and the page shows the field added (in the change envelope's row image) and the
// schema's lines added and removed between the two versions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { parseConfig } from '../../src/config/load.js';
import { runPipeline, type RunningPipeline } from '../../src/pipeline/run.js';
import { POSTGRES_WHAT, postgresLogicalAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { kafkaSkipReason, startKafka, uniqueName, waitFor, type KafkaCluster } from '../support/kafka.js';
import { skipUnless } from '../support/services.js';
import { CHROMIUM, CHROMIUM_ARGS, SHOTS } from './dashboard-browser.js';

const ready = (await postgresLogicalAvailable()) && existsSync(CHROMIUM);
const skip = skipUnless(ready, `${POSTGRES_WHAT} with wal_level=logical and Chromium at ${CHROMIUM}`) || (await kafkaSkipReason());

describe('dashboard: registry diff', { skip }, () => {
  let kafka: KafkaCluster | undefined;
  let src: ScratchPostgres;
  let dst: ScratchPostgres;
  let state: ScratchPostgres;
  let pipeline: RunningPipeline | undefined;
  let browser: Browser | undefined;

  before(async () => {
    kafka = await startKafka();
    [src, dst, state] = await Promise.all([scratchPostgres(), scratchPostgres(), scratchPostgres()]);
    const ddl = 'CREATE TABLE coupon (id bigint PRIMARY KEY, n integer NOT NULL, code text NOT NULL)';
    await src.pool.query(ddl);
    await dst.pool.query(ddl);
    await src.pool.query(`INSERT INTO coupon SELECT g, g, 'C' || g FROM generate_series(1, 10) g`);
    pipeline = await runPipeline(
      parseConfig({
        name: 'dashboard-registry',
        source: {
          connector: 'postgres',
          connection: { dialect: 'postgres', url: src.url },
          tables: ['coupon'],
          statusIntervalMs: 200,
        },
        transport: { kind: 'kafka', brokers: kafka.brokers, topic: uniqueName('dash-registry'), partitions: 1, groupId: uniqueName('g') },
        registry: { port: 0 },
        target: { connection: { dialect: 'postgres', url: dst.url }, evolve: true },
        state: { url: state.url },
        observe: { port: 0 },
      }),
      pino({ level: 'silent' }),
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await pipeline?.stop().catch(() => {});
    await Promise.all([src?.drop(), dst?.drop(), state?.drop()]);
    await kafka?.stop();
  });

  test('a column added: the page diffs the two versions of the subject', { timeout: 300_000 }, async () => {
    const url = pipeline!.observeUrl!;
    const count = async () => (await dst.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM coupon')).rows[0]!.n;
    await waitFor(async () => (await count()) === 10, 'the snapshot applied through Kafka', 120_000);
    // target.evolve adds the new column on the target.
    await src.pool.query('ALTER TABLE coupon ADD COLUMN label text');
    await src.pool.query(`INSERT INTO coupon VALUES (11, 11, 'C11', 'new')`);
    await waitFor(
      // to_jsonb: the column exists only once target.evolve has added it.
      async () => (await dst.pool.query(`SELECT to_jsonb(c) ->> 'label' AS label FROM coupon c WHERE id = 11`)).rows[0]?.label === 'new',
      'the change of the new shape applied',
      120_000,
    );
    const subjects = (await (await fetch(`${url}/api/subjects`)).json()) as Array<{ subject: string; versions: number[] }>;
    const value = subjects.find((s) => s.versions.length >= 2);
    assert.ok(value, `a subject with two versions: ${JSON.stringify(subjects)}`);
    const last = value.versions[value.versions.length - 1]!;

    const bad = await fetch(`${url}/api/subjects/${encodeURIComponent(value.subject)}/diff?from=0&to=${last}`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { field: string }).field, 'from');

    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await page.goto(`${url}/#registry`);
      const row = page.locator(`#subjects tr[data-subject="${value.subject}"]`);
      await row.waitFor();
      await row.locator('select.diff-from').selectOption(String(value.versions[0]));
      await row.locator('select.diff-to').selectOption(String(last));
      await row.locator('button.diff-show').click();
      await page.waitForSelector('#diff-fields tr[data-field="after.label"][data-change="added"]');
      const fields = await page.locator('#diff-fields tbody').innerText();
      assert.match(fields, /after\.label\s+added\s+null \| string/);
      assert.equal(await page.locator('#diff-fields tbody tr').count(), 1, fields);
      assert.match(await page.locator('#diff-title').innerText(), new RegExp(`v${value.versions[0]} → v${last}`));
      const added = await page.locator('#diff-lines span.add').allInnerTexts();
      const removed = await page.locator('#diff-lines span.del').allInnerTexts();
      assert.ok(
        added.some((l) => l.includes('"label"')),
        added.join('\n'),
      );
      assert.deepEqual(removed, [], 'nothing was removed');
      await page.screenshot({ path: new URL('registry-diff.png', SHOTS).pathname, fullPage: true });
    } finally {
      await page.close().catch(() => {});
    }
  });
});
