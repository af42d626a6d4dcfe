// The dashboard on a PostgreSQL log-capture → Kafka → MariaDB pipeline, in headless Chromium: the
// overview's charts draw data, and the message viewer shows a row's records, newest first, decoded
// through the registry, beside the target's current row; a table's records and a topic's latest
// records; a query that names no configured table, a key that does not fit, or a bad limit answers
// 400 naming the field.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { parseConfig } from '../../src/config/load.js';
import { runPipeline, type RunningPipeline } from '../../src/pipeline/run.js';
import { partitionFor } from '../../src/transport/kafka/index.js';
import type { MessageItem, MessagePage } from '../../src/observe/controls.js';
import {
  MYSQL_URL,
  mysqlAvailable,
  POSTGRES_WHAT,
  MYSQL_WHAT,
  postgresLogicalAvailable,
  scratchMysql,
  scratchPostgres,
  type ScratchMysql,
  type ScratchPostgres,
} from '../support/databases.js';
import { kafkaSkipReason, startKafka, uniqueName, waitFor, type KafkaCluster } from '../support/kafka.js';
import { skipUnless } from '../support/services.js';
import { spawnSluice, type SluiceProcess } from '../support/cli.js';
import { CHROMIUM, CHROMIUM_ARGS, SHOTS } from './dashboard-browser.js';

// Functions given to page.waitForFunction run in the page (tsconfig has no DOM lib).
declare const document: { body: { dataset: Record<string, string | undefined> } };

const ready = (await postgresLogicalAvailable()) && (await mysqlAvailable()) && existsSync(CHROMIUM);
const skip =
  skipUnless(ready, `${POSTGRES_WHAT} with wal_level=logical, ${MYSQL_WHAT} and Chromium at ${CHROMIUM}`) || (await kafkaSkipReason());
const PARTITIONS = 3;

interface CouponEvent {
  op: string;
  key: { id: string };
  after: { id: string; discount: string; code: string } | null;
  version: string;
}

describe('dashboard: message viewer on PostgreSQL → Kafka → MariaDB', { skip }, () => {
  let kafka: KafkaCluster | undefined;
  let src: ScratchPostgres;
  let dst: ScratchMysql;
  let state: ScratchPostgres;
  let pipeline: RunningPipeline | undefined;
  let browser: Browser | undefined;
  let raw: Record<string, unknown>;
  let dir: string | undefined;

  before(async () => {
    kafka = await startKafka();
    [src, dst, state] = await Promise.all([scratchPostgres(), scratchMysql(), scratchPostgres()]);
    await src.pool.query(`CREATE TABLE coupon (id bigint PRIMARY KEY, discount numeric(10,2) NOT NULL, code text NOT NULL);
      CREATE TABLE redemption (id bigint PRIMARY KEY, coupon_id bigint NOT NULL, amount numeric(10,2) NOT NULL);
      INSERT INTO coupon SELECT g, g, 'C' || g FROM generate_series(1, 50) g;
      INSERT INTO redemption SELECT g, g % 50 + 1, g * 2 FROM generate_series(1, 20) g`);
    await dst.pool.query('CREATE TABLE coupon (id bigint PRIMARY KEY, discount decimal(10,2) NOT NULL, code varchar(64) NOT NULL)');
    await dst.pool.query('CREATE TABLE redemption (id bigint PRIMARY KEY, coupon_id bigint NOT NULL, amount decimal(10,2) NOT NULL)');
    raw = {
      name: 'dashboard-messages',
      source: { connector: 'postgres', connection: { dialect: 'postgres', url: src.url }, tables: ['coupon', 'redemption'] },
      transport: {
        kind: 'kafka',
        brokers: kafka.brokers,
        topic: uniqueName('dash-messages'),
        partitions: PARTITIONS,
        groupId: uniqueName('g'),
      },
      registry: { port: 0 },
      target: { connection: { dialect: 'mysql', url: `${MYSQL_URL.replace(/\/$/, '')}/${dst.database}` } },
      state: { url: state.url },
      observe: { port: 0 },
    };
    pipeline = await runPipeline(parseConfig(raw), pino({ level: 'silent' }));
    dir = mkdtempSync(join(tmpdir(), 'sluice-dashboard-messages-'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await pipeline?.stop().catch(() => {});
    await Promise.all([src?.drop(), dst?.drop(), state?.drop()]);
    await kafka?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test(
    'a row’s records newest first beside its target row; a table’s and a topic’s latest; 400 naming the field',
    { timeout: 300_000 },
    async () => {
      const url = pipeline!.observeUrl!;
      const discount = async (id: number) =>
        (
          (await dst.pool.query(`SELECT CAST(discount AS CHAR) AS d FROM coupon WHERE id = ${id}`)) as unknown as [Array<{ d: string }>]
        )[0][0]?.d;
      const count = async (table: string) =>
        ((await dst.pool.query(`SELECT count(*) AS n FROM ${table}`)) as unknown as [Array<{ n: number }>])[0][0]!.n;
      await waitFor(
        async () => Number(await count('coupon')) === 50 && Number(await count('redemption')) === 20,
        'the snapshot applied',
        120_000,
      );
      for (const d of ['1.50', '2.50', '3.50']) await src.pool.query('UPDATE coupon SET discount = $1 WHERE id = 7', [d]);
      await waitFor(async () => (await discount(7)) === '3.50', 'the three updates of coupon 7 applied', 120_000);

      const get = async (query: string) => {
        const res = await fetch(`${url}/api/messages?${query}`);
        return { status: res.status, body: (await res.json()) as MessagePage & { error?: string; field?: string } };
      };

      // One row: its snapshot read and its three updates, newest first, all in the key's partition.
      const row = await get('table=coupon&key=7&limit=10');
      assert.equal(row.status, 200, JSON.stringify(row.body));
      const events = row.body.messages.map((m) => m.event as CouponEvent);
      assert.deepEqual(
        events.map((e) => [e.op, e.after?.discount]),
        [
          ['u', '3.50'],
          ['u', '2.50'],
          ['u', '1.50'],
          ['r', '7.00'],
        ],
      );
      const key7 = Buffer.alloc(8);
      key7.writeBigInt64BE(7n);
      assert.ok(row.body.messages.every((m) => m.partition === partitionFor(key7, PARTITIONS) && m.table === 'public.coupon'));
      assert.ok(
        events.every((e, i) => i === 0 || BigInt(events[i - 1]!.version) > BigInt(e.version)),
        'versions fall from the newest record to the oldest',
      );
      assert.deepEqual(row.body.messages[0]!.targetRow, { id: '7', discount: '3.50', code: 'C7' });
      assert.equal(row.body.complete, true);
      assert.ok(row.body.messages.every((m) => typeof m.schemaId === 'number'));

      // A table's latest records: only that table's, from every partition.
      const redemptions = await get('table=public.redemption&limit=5');
      assert.equal(redemptions.status, 200, JSON.stringify(redemptions.body));
      assert.equal(redemptions.body.messages.length, 5);
      assert.ok(redemptions.body.messages.every((m: MessageItem) => m.table === 'public.redemption' && m.targetRow !== undefined));
      // The topic's latest: the newest record of all is coupon 7's last update.
      const topic = await get('limit=3');
      assert.equal(topic.status, 200);
      assert.equal(topic.body.messages.length, 3);
      assert.equal((topic.body.messages[0]!.event as CouponEvent).after?.discount, '3.50');

      for (const [query, field] of [
        ['table=nope', 'table'],
        ['key=7', 'table'],
        ['table=coupon&key={"nope":1}', 'key'],
        ['table=coupon&key="x"', 'key'],
        ['topic=nope', 'topic'],
        ['limit=0', 'limit'],
      ] as const) {
        const bad = await get(query);
        assert.equal(bad.status, 400, `${query}: ${JSON.stringify(bad.body)}`);
        assert.equal(bad.body.field, field, `${query}: ${bad.body.error}`);
      }

      const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
      try {
        await page.goto(url);
        await page.waitForSelector('#topology tbody tr[data-table="public.coupon"]');
        await page.waitForFunction(() => Number(document.body.dataset.chartPoints ?? 0) >= 2, undefined, { timeout: 60_000 });
        assert.equal(await page.locator('#chart-throughput canvas').count(), 1);
        // The stage chart has a series per table and stage, the published stage included on Kafka.
        assert.equal(await page.locator('#chart-stages canvas').count(), 1);
        const legend = await page.locator('#chart-stages .u-legend').innerText();
        for (const series of ['public.coupon captured', 'public.coupon published', 'public.redemption applied'])
          assert.ok(legend.includes(series), legend);
        await page.click('nav a[data-tab="messages"]');
        await page.waitForSelector('#msg-table option[value="public.coupon"]', { state: 'attached' });
        await page.selectOption('#msg-table', 'public.coupon');
        await page.fill('#msg-key', '7');
        await page.click('[data-testid="msg-show"]');
        await page.waitForSelector('#msg-list tbody tr[data-offset]');
        assert.equal(await page.locator('#msg-list tbody tr').count(), 4);
        assert.match(await page.locator('#msg-list tbody tr').first().innerText(), /public\.coupon\s+u\s+\{"id":"7"\}/);
        assert.match(await page.locator('#msg-record').innerText(), /"discount": "3\.50"/);
        assert.match(await page.locator('#msg-target').innerText(), /"discount": "3\.50"/);
        await page.locator('#msg-list tbody tr').last().click();
        assert.match(await page.locator('#msg-record').innerText(), /"op": "r"[\s\S]*"discount": "7\.00"/);
        await page.screenshot({ path: new URL('messages.png', SHOTS).pathname, fullPage: true });
      } finally {
        await page.close().catch(() => {});
      }
    },
  );

  test('sluice dashboard reads the same records from Kafka in its own process', { timeout: 180_000 }, async () => {
    const p = pipeline!;
    // JSON is YAML: the pipeline's config, with the registry and the observe server it runs.
    const cfgFile = join(dir!, 'sluice.yaml');
    writeFileSync(
      cfgFile,
      JSON.stringify({
        ...raw,
        registry: { url: p.registryUrl },
        observe: { host: '127.0.0.1', port: Number(new URL(p.observeUrl!).port) },
      }),
    );
    let dashboard: SluiceProcess | undefined;
    try {
      dashboard = spawnSluice(['dashboard', '-c', cfgFile]);
      const url = await dashboard.line();
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      for (const query of ['table=coupon&key=7&limit=10', 'table=redemption&limit=4']) {
        const read = async (u: string) => (await (await fetch(`${u}/api/messages?${query}`)).json()) as MessagePage;
        const [own, apart] = [await read(p.observeUrl!), await read(url)];
        assert.ok(apart.messages.length > 0, JSON.stringify(apart));
        assert.deepEqual(apart.messages, own.messages, query);
      }
      assert.equal(((await (await fetch(`${url}/api/status`)).json()) as { features: { messages: boolean } }).features.messages, true);
      assert.equal(await dashboard.stop(), 0);
    } finally {
      await dashboard?.kill();
    }
  });
});
