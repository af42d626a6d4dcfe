// `sluice reconcile` as a user runs it: a config naming a PostgreSQL source and target, drift
// planted on the target, a local HTTP server standing in for Slack's incoming webhook.
//   - the report (json) lists exactly the planted keys, exit status 1, Slack gets the alert;
//   - --repair fixes it (exit 0), and the next run is in sync: no alert;
//   - a dead webhook is logged and does not fail the run; the report is stored in the state store.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { openStateStore } from '../../src/state/index.js';
import { ReportStore } from '../../src/reconcile/report-store.js';
import { createTableSql, POSTGRES_WHAT, postgresAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { freePort, skipUnless } from '../support/services.js';
import { event, load, makeRow, sinkFor, sourceIds, TABLE } from '../reconcile/fixture.js';

interface Run { code: number; stdout: string; stderr: string }

function sluice(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
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
    writeFileSync(file, JSON.stringify({
      name: 'coupons', state: { dataDir: join(dir, 'state') },
      source: { connector: 'outbox', connection: { dialect: 'postgres', url: src.url }, tables: [TABLE.name] },
      transport: { kind: 'direct' },
      target: { connection: { dialect: 'postgres', url: dst.url } },
      reconcile: { alert: { slack: { webhookUrl } }, waitTimeoutMs: 5000 },
    }));
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
      req.on('data', (c) => { body += c; });
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
    assert.deepEqual({ missing: t.keys.missing, different: t.keys.different, extra: t.keys.extra }, { missing: [planted.missing], different: [planted.different], extra: ['9999'] });
    assert.equal(received.length, 1);
    const msg = received[0] as { path: string; type: string; body: { text: string; blocks: Array<{ type: string; text?: { text: string } }> } };
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
