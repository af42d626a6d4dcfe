// `sluice reconcile` as a user runs it: a config naming a PostgreSQL source and target, drift
// planted on the target, a local HTTP server standing in for Slack's incoming webhook.
//   - the report (json) lists exactly the planted keys, exit status 1, Slack gets the alert;
//   - --repair fixes it (exit 0), and the next run is in sync: no alert;
//   - a dead webhook is logged and does not fail the run; the report is stored in the state store.
// And the one-off form, without a config: `--source URL --target URL --table T`, PostgreSQL to
// MariaDB with a uuid in a CHAR(36) and jsonb in a JSON column respelled by hand (the issue's
// case): in sync (exit 0), planted drift listed (exit 1), --repair, in sync again; no state store
// is created (nothing appears in the working directory); a URL of no known scheme is exit 2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { openStateStore } from '../../src/state/index.js';
import { ReportStore } from '../../src/reconcile/report-store.js';
import {
  createTableSql,
  MYSQL_URL,
  MYSQL_WHAT,
  mysqlAvailable,
  POSTGRES_WHAT,
  postgresAvailable,
  scratchMysql,
  scratchPostgres,
  type ScratchMysql,
  type ScratchPostgres,
} from '../support/databases.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { createSink } from '../../src/apply/index.js';
import { introspect, MYSQL_SESSION_SQL } from '../../src/metadata/index.js';
import { freePort, skipUnless } from '../support/services.js';
import { event, load, makeRow, sinkFor, sourceIds, TABLE } from '../reconcile/fixture.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const MAIN = join(process.cwd(), 'src/cli/main.ts');
const TSX = import.meta.resolve('tsx');

function sluice(args: string[], cwd = process.cwd()): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, MAIN, ...args],
      { cwd, env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' }, timeout: 120_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('sluice reconcile', { skip: skipUnless(await postgresAvailable(), POSTGRES_WHAT) }, () => {
  let src: ScratchPostgres;
  let dst: ScratchPostgres;
  let slack: Server;
  const received: unknown[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sluice-reconcile-cli-'));
  const config = (webhookUrl: string) => {
    const file = join(dir, `sluice-${received.length}-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      file,
      JSON.stringify({
        name: 'coupons',
        state: { dataDir: join(dir, 'state') },
        source: { connector: 'outbox', connection: { dialect: 'postgres', url: src.url }, tables: [TABLE.name] },
        transport: { kind: 'direct' },
        target: { connection: { dialect: 'postgres', url: dst.url } },
        reconcile: { alert: { slack: { webhookUrl } }, waitTimeoutMs: 5000 },
      }),
    );
    return file;
  };
  let slackUrl: string;
  const planted = { missing: '', different: '' };

  before(async () => {
    src = await scratchPostgres();
    dst = await scratchPostgres();
    await src.pool.query(createTableSql('postgres', TABLE));
    await dst.pool.query(createTableSql('postgres', TABLE));
    const rows = sourceIds(600).map((id) => makeRow(id));
    planted.missing = String(rows[10]!.id);
    planted.different = String(rows[200]!.id);
    const a = sinkFor({ dialect: 'postgres', connection: src.pool });
    const b = sinkFor({ dialect: 'postgres', connection: dst.pool });
    await load(a, rows);
    await load(b, rows);
    await b.apply([
      event(TABLE, 'd', rows[10]!, 10n ** 12n),
      event(TABLE, 'u', { ...rows[200]!, i32: 12345 }, 10n ** 12n + 1n),
      event(TABLE, 'c', { ...makeRow(9999, 3), id: 9999n }, 10n ** 12n + 2n),
    ]);
    await a.close();
    await b.close();
    slack = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push({ path: req.url, type: req.headers['content-type'], body: JSON.parse(body) });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => slack.listen(0, '127.0.0.1', r));
    slackUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/services/T000/B000/secret-token`;
  });
  after(async () => {
    slack?.close();
    await src?.drop();
    await dst?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('finds the planted drift, exits 1 and alerts Slack with the documented payload', async () => {
    const r = await sluice(['reconcile', '-c', config(slackUrl), '--format', 'json', '--no-progress']);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout);
    const t = report.tables[0];
    assert.deepEqual(
      { missing: t.keys.missing, different: t.keys.different, extra: t.keys.extra },
      { missing: [planted.missing], different: [planted.different], extra: ['9999'] },
    );
    assert.equal(received.length, 1);
    const msg = received[0] as {
      path: string;
      type: string;
      body: { text: string; blocks: Array<{ type: string; text?: { text: string } }> };
    };
    assert.equal(msg.path, '/services/T000/B000/secret-token');
    assert.match(msg.type, /application\/json/);
    assert.match(msg.body.text, /coupons/);
    assert.equal(msg.body.blocks[0]!.type, 'header');
    const all = JSON.stringify(msg.body.blocks);
    for (const k of [planted.missing, planted.different, '9999']) assert.ok(all.includes(k), `top key ${k} in the alert`);
    assert.ok(typeof report.id === 'number', 'the report was stored');
  });

  test('--repair fixes it (exit 0); the next run is in sync and sends nothing', async () => {
    const repaired = await sluice(['reconcile', '-c', config(slackUrl), '--repair', '--no-progress']);
    assert.equal(repaired.code, 0, repaired.stderr + repaired.stdout);
    assert.match(repaired.stdout, /repaired: inserted 1, updated 1, deleted 1/);
    const before = received.length;
    const again = await sluice(['reconcile', '-c', config(slackUrl), '--no-progress']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /in sync/);
    assert.equal(received.length, before, 'no alert without drift');
  });

  test('a dead webhook is logged without its secret and does not fail the run; reports are in the state store', async () => {
    await dst.pool.query('DELETE FROM drift_all WHERE id = 5');
    const dead = `http://127.0.0.1:${await freePort()}/services/T1/B1/dead-secret`;
    const r = await sluice(['reconcile', '-c', config(dead), '--no-progress']);
    assert.equal(r.code, 1, 'drift remains: exit 1, not a crash');
    assert.match(r.stdout, /missing: 5/);
    assert.match(r.stderr, /reconcile alert failed/);
    assert.ok(!r.stderr.includes('dead-secret'), 'the webhook path is a secret');
    const state = await openStateStore({ dataDir: join(dir, 'state', 'state') });
    try {
      const reports = await new ReportStore(state).latest('coupons', 10);
      assert.equal(reports.length, 4);
      assert.equal(reports[0]!.tables[0]!.missing, 1);
    } finally {
      await state.close();
    }
  });

  test('a table not in the config is named in the error', async () => {
    const r = await sluice(['reconcile', '-c', config(slackUrl), '--table', 'nope', '--no-progress']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /"nope" is not one of source\.tables/);
  });
});

describe(
  'sluice reconcile --source URL --target URL (one-off, no config)',
  { skip: skipUnless(await postgresAvailable(), POSTGRES_WHAT) || skipUnless(await mysqlAvailable(), MYSQL_WHAT) },
  () => {
    let src: ScratchPostgres;
    let dst: ScratchMysql;
    let dstUrl: string;
    const cwd = mkdtempSync(join(tmpdir(), 'sluice-reconcile-oneoff-'));
    const ids = { different: '', missing: '', extra: '' };
    const run = (...args: string[]) =>
      sluice(['reconcile', '--source', src.url, '--target', dstUrl, '--table', 'coupon', '--no-progress', ...args], cwd);

    before(async () => {
      src = await scratchPostgres();
      dst = await scratchMysql();
      dst.pool.on('connection', (c) => void c.query(MYSQL_SESSION_SQL));
      const url = new URL(MYSQL_URL);
      url.pathname = `/${dst.database}`;
      url.protocol = 'mariadb:';
      dstUrl = url.toString();
      await src.pool.query(
        'CREATE TABLE coupon (id bigint PRIMARY KEY, code uuid NOT NULL, rules jsonb, amount numeric(10,2), valid_until timestamptz)',
      );
      await dst.pool.query(
        'CREATE TABLE coupon (id bigint PRIMARY KEY, code char(36) NOT NULL, rules json, amount decimal(12,4), valid_until datetime(6))',
      );
      const table: TableSchema = await introspect({ dialect: 'postgres', connection: src.pool }, { name: 'coupon' });
      const rows = Array.from({ length: 300 }, (_, i) => ({
        id: BigInt(i + 1),
        code: `${String(i).padStart(8, '0')}-2962-4e90-8000-${String(i * 7).padStart(12, '0')}`,
        rules: i % 10 === 0 ? null : JSON.stringify({ percent: i % 50, stack: i % 2 === 0, tags: ['spring', i] }),
        amount: `${i}.${String(i % 100).padStart(2, '0')}`,
        valid_until: `2030-01-${String((i % 28) + 1).padStart(2, '0')}T00:00:00Z`,
      }));
      let v = 1n;
      const events = (rs: typeof rows) =>
        rs.map((row) => ({
          table,
          op: 'c' as const,
          key: { id: row.id },
          after: row,
          source: { connector: 'test', position: '0' },
          version: v++,
        }));
      const a = createSink({ dialect: 'postgres', connection: src.pool, tables: [table] });
      const b = createSink({ dialect: 'mysql', connection: dst.pool, tables: [table], resolveTable: (t) => ({ name: t.name }) });
      try {
        await a.apply(events(rows));
        await b.apply(events(rows));
      } finally {
        await a.close();
        await b.close();
      }
      // The same documents as another writer would store them: other key order, spaces, 1 as 1.0.
      await dst.pool.query(
        `UPDATE coupon SET rules = CONCAT('{ "tags": ["spring", ', id - 1, '.0], "stack" : ', IF(id % 2 = 1, 'true', 'false'), ', "percent": ', (id - 1) % 50, ' }') WHERE rules IS NOT NULL`,
      );
      ids.different = '42';
      ids.missing = '7';
      ids.extra = '9999';
    });
    after(async () => {
      await src?.drop();
      await dst?.drop();
      rmSync(cwd, { recursive: true, force: true });
    });

    test('identical data across engines is in sync: exit 0, and no state store is created', async () => {
      const r = await run();
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /reconcile one-off: 1 table/);
      assert.match(r.stdout, /300 source rows, 300 target rows/);
      assert.match(r.stdout, /in sync/);
      assert.deepEqual(readdirSync(cwd), [], 'nothing written to the working directory');
    });

    test('planted drift is listed exactly (exit 1); --repair fixes it; the next run is in sync', async () => {
      await dst.pool.query("UPDATE coupon SET code = '00000042-2962-4e90-8000-000000000295' WHERE id = 42");
      await dst.pool.query('DELETE FROM coupon WHERE id = 7');
      await dst.pool.query("INSERT INTO coupon VALUES (9999, '00009999-2962-4e90-8000-000000000000', '{}', 1, NULL)");
      const r = await run('--format', 'json');
      assert.equal(r.code, 1, r.stderr);
      const t = JSON.parse(r.stdout).tables[0];
      assert.deepEqual(
        { missing: t.keys.missing, extra: t.keys.extra, different: t.keys.different },
        { missing: [ids.missing], extra: [ids.extra], different: [ids.different] },
      );
      assert.deepEqual(t.keysLeftOut, { missing: 0, extra: 0, different: 0, inFlight: 0 });
      const repaired = await run('--repair', '--max-repair-share', '0.5');
      assert.equal(repaired.code, 0, repaired.stderr + repaired.stdout);
      assert.match(repaired.stdout, /repaired: inserted 1, updated 1, deleted 1/);
      const again = await run();
      assert.equal(again.code, 0, again.stderr + again.stdout);
      assert.match(again.stdout, /in sync/);
    });

    test('usage errors name the flag: exit 2', async () => {
      const scheme = await sluice(['reconcile', '--source', 'oracle://db/x', '--target', dstUrl, '--table', 'coupon'], cwd);
      assert.equal(scheme.code, 2);
      assert.match(scheme.stderr, /--source: oracle:\/\/db\/x is not a postgres:\/\/, postgresql:\/\/, mysql:\/\/ or mariadb:\/\/ URL/);
      const noTable = await sluice(['reconcile', '--source', src.url, '--target', dstUrl], cwd);
      assert.equal(noTable.code, 2);
      assert.match(noTable.stderr, /--table <name> is missing/);
      const both = await sluice(['reconcile', '-c', 'x.yaml', '--source', src.url, '--target', dstUrl, '--table', 'coupon'], cwd);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /two forms/);
    });
  },
);
