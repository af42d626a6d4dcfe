import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Logger } from '../../src/observe/logger.js';
import { escapeMrkdwn, sendAlerts, shouldAlert, slackPayload, webhookPayload } from '../../src/reconcile/alert/index.js';
import { driftReport, reconcileReport, tableReport } from './report-fixture.js';
import { freePort } from '../support/services.js';

// ---- a local stand-in for Slack's incoming webhook and a generic receiver ----

interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Reply = (res: ServerResponse) => void;

/** Answers each request with the next reply queued (200 "ok" when none is left) and records it. */
class Receiver {
  readonly received: Received[] = [];
  replies: Reply[] = [];
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const reply = this.replies.shift() ?? ((r: ServerResponse) => r.end('ok'));
        reply(res);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  reset(): void {
    this.received.length = 0;
    this.replies = [];
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }
}

const SECRET = 'xoxSecretT0kenPart';
const SLACK_PATH = `/services/T0AAAA/B0BBBB/${SECRET}`;

function recordingLog() {
  const warn: unknown[][] = [];
  const info: unknown[][] = [];
  const log = {
    warn: (...args: unknown[]) => void warn.push(args),
    info: (...args: unknown[]) => void info.push(args),
  } as unknown as Pick<Logger, 'warn' | 'info'>;
  return { log, warn, info };
}

function status(code: number, body = '', headers: Record<string, string> = {}): Reply {
  return (res) => {
    res.writeHead(code, headers);
    res.end(body);
  };
}

interface SlackBlock {
  type: string;
  text?: { type: string; text: string };
  elements?: Array<{ type: string; text: string }>;
}

// ---- payloads ----

describe('slackPayload', () => {
  test('has a text fallback and Block Kit blocks: header, counts per drifted table, top keys, repair and a context line', () => {
    const p = slackPayload({ ...driftReport(), id: 42 });
    assert.match(
      p.text,
      /^reconcile nightly: drift in 1 of 2 tables; public\.orders: missing 3, extra 1, different 2, in flight 1 \(repaired: inserted 3, updated 2, deleted 1, skipped 0\)$/,
    );
    const blocks = p.blocks as SlackBlock[];
    assert.deepEqual(
      blocks.map((b) => b.type),
      ['header', 'section', 'section', 'section', 'context'],
    );
    assert.deepEqual(blocks[0]!.text, { type: 'plain_text', text: 'Reconcile drift: nightly', emoji: true });
    assert.equal(blocks[1]!.text!.text, '*nightly*: Confirmed drift in *1* of 2 tables, repair requested');
    const table = blocks[2]!.text!;
    assert.equal(table.type, 'mrkdwn');
    assert.equal(
      table.text,
      '*public.orders* → public.orders\nmissing *3* · extra *1* · different *2* · in flight *1*\nrepaired: inserted 3, updated 2, deleted 1, skipped 0',
    );
    assert.equal(blocks[3]!.text!.text, '```missing   101, 102, 103\nextra     9001\ndifferent 7, a&lt;b&amp;c&gt;\nin flight 55```');
    assert.equal(blocks[4]!.elements![0]!.text, 'report 42 · run 12.3 s · started 2024-05-01T02:00:00.000Z · 1 table in sync');
  });

  test('escapes &, < and > everywhere report text reaches mrkdwn', () => {
    const r = reconcileReport(
      [
        tableReport({
          table: '<!channel>',
          target: 'a&b',
          missing: 1,
          keys: { missing: ['<@U1>'], extra: [], different: [], inFlight: [] },
        }),
      ],
      { name: 'x<y' },
    );
    const json = JSON.stringify(slackPayload(r));
    assert.ok(!json.includes('<!channel>') && !json.includes('<@U1>'));
    assert.ok(json.includes('&lt;!channel&gt;') && json.includes('a&amp;b') && json.includes('&lt;@U1&gt;'));
    assert.equal(escapeMrkdwn('a & <b> &amp;'), 'a &amp; &lt;b&gt; &amp;amp;');
  });

  test('shows topKeys keys of each kind and says how many more there are', () => {
    const t = tableReport({ missing: 50, keys: { missing: ['1', '2', '3', '4', '5', '6'], extra: [], different: [], inFlight: [] } });
    const blocks = slackPayload(reconcileReport([t]), 2).blocks as SlackBlock[];
    assert.equal(blocks[3]!.text!.text, '```missing   1, 2, … (48 more)```');
  });

  test("a failed table is shown with its error, and many tables stay within Slack's 50 blocks", () => {
    const failed = slackPayload(reconcileReport([tableReport({ error: 'permission denied for table orders' })]));
    assert.equal((failed.blocks[0] as SlackBlock).text!.text, 'Reconcile failed: nightly');
    assert.equal(
      (failed.blocks[2] as SlackBlock).text!.text,
      '*public.orders* → public.orders\n:x: failed: permission denied for table orders',
    );

    const many = Array.from({ length: 40 }, (_, i) =>
      tableReport({ table: `t${i}`, different: 1, keys: { missing: [], extra: [], different: [String(i)], inFlight: [] } }),
    );
    const blocks = slackPayload(reconcileReport(many)).blocks as SlackBlock[];
    assert.ok(blocks.length <= 50);
    assert.ok(blocks.some((b) => b.text?.text === '…and 30 more tables (see the report)'));
  });
});

describe('webhookPayload', () => {
  test('is the documented JSON, every table included', () => {
    assert.deepEqual(webhookPayload({ ...driftReport(), id: 7 }, 2), {
      event: 'sluice.reconcile.drift',
      name: 'nightly',
      reportId: 7,
      startedAt: '2024-05-01T02:00:00.000Z',
      finishedAt: '2024-05-01T02:00:12.345Z',
      durationMs: 12_345,
      tables: [
        {
          table: 'public.orders',
          target: 'public.orders',
          missing: 3,
          extra: 1,
          different: 2,
          inFlight: 1,
          topKeys: { missing: ['101', '102'], extra: ['9001'], different: ['7', 'a<b&c>'] },
          repair: { status: 'done', inserted: 3, updated: 2, deleted: 1, skipped: 0 },
          error: null,
        },
        {
          table: 'public.items',
          target: 'shop.items',
          missing: 0,
          extra: 0,
          different: 0,
          inFlight: 0,
          topKeys: { missing: [], extra: [], different: [] },
          repair: { status: 'not-requested' },
          error: null,
        },
      ],
      summary:
        'reconcile nightly: drift in 1 of 2 tables; public.orders: missing 3, extra 1, different 2, in flight 1 (repaired: inserted 3, updated 2, deleted 1, skipped 0)',
    });
    assert.equal(webhookPayload(driftReport()).reportId, null);
  });
});

test('shouldAlert: confirmed drift or a failed table, never rows only in flight', () => {
  assert.equal(shouldAlert(driftReport()), true);
  assert.equal(shouldAlert(reconcileReport([tableReport()])), false);
  assert.equal(
    shouldAlert(reconcileReport([tableReport({ inFlight: 4, keys: { missing: [], extra: [], different: [], inFlight: ['1'] } })])),
    false,
  );
  assert.equal(shouldAlert(reconcileReport([tableReport({ error: 'boom' })])), true);
});

// ---- delivery ----

describe('sendAlerts', () => {
  const slack = new Receiver();
  const hook = new Receiver();
  before(async () => {
    await slack.start();
    await hook.start();
  });
  beforeEach(() => {
    slack.reset();
    hook.reset();
  });
  after(async () => {
    await slack.stop();
    await hook.stop();
  });

  test('a report with confirmed drift is posted to Slack as JSON in the documented shape', async () => {
    const { log, warn, info } = recordingLog();
    const report = { ...driftReport(), id: 42 };
    const results = await sendAlerts(report, { slack: { webhookUrl: slack.url(SLACK_PATH) } }, log);
    assert.deepEqual(results, [{ target: 'slack', ok: true }]);
    assert.equal(slack.received.length, 1);
    const req = slack.received[0]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.path, SLACK_PATH);
    assert.equal(req.headers['content-type'], 'application/json');
    const body = JSON.parse(req.body) as { text: string; blocks: SlackBlock[] };
    assert.deepEqual(body, JSON.parse(JSON.stringify(slackPayload(report))));
    assert.match(body.text, /public\.orders: missing 3, extra 1, different 2/);
    const texts = body.blocks.map((b) => b.text?.text ?? '').join('\n');
    assert.match(texts, /missing \*3\* · extra \*1\* · different \*2\* · in flight \*1\*/);
    assert.match(texts, /missing {3}101, 102, 103/);
    assert.equal(warn.length, 0);
    assert.equal(info.length, 1);
    assert.ok(!JSON.stringify(info).includes(SECRET));
  });

  test('nothing is sent for a report without confirmed drift', async () => {
    const { log } = recordingLog();
    const clean = reconcileReport([
      tableReport(),
      tableReport({ table: 'public.items', inFlight: 2, keys: { missing: [], extra: [], different: [], inFlight: ['1', '2'] } }),
    ]);
    const results = await sendAlerts(clean, { slack: { webhookUrl: slack.url(SLACK_PATH) }, webhook: { url: hook.url('/hook') } }, log);
    assert.deepEqual(results, []);
    assert.equal(slack.received.length + hook.received.length, 0);
  });

  test('a table that failed with an error is alerted on', async () => {
    const { log } = recordingLog();
    const results = await sendAlerts(
      reconcileReport([tableReport({ error: 'relation "orders" does not exist' })]),
      { slack: { webhookUrl: slack.url(SLACK_PATH) } },
      log,
    );
    assert.deepEqual(results, [{ target: 'slack', ok: true }]);
    assert.match(JSON.parse(slack.received[0]!.body).text, /public\.orders: failed: relation "orders" does not exist/);
  });

  test('the generic webhook gets its JSON with the configured headers, alongside Slack', async () => {
    const { log } = recordingLog();
    const report = { ...driftReport(), id: 9 };
    const results = await sendAlerts(
      report,
      {
        slack: { webhookUrl: slack.url(SLACK_PATH) },
        webhook: { url: hook.url('/sluice/alerts?k=1'), headers: { authorization: 'Bearer abc' } },
      },
      log,
      { topKeys: 1 },
    );
    assert.deepEqual(results, [
      { target: 'slack', ok: true },
      { target: 'webhook', ok: true },
    ]);
    assert.equal(hook.received.length, 1);
    const req = hook.received[0]!;
    assert.equal(req.path, '/sluice/alerts?k=1');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers.authorization, 'Bearer abc');
    assert.deepEqual(JSON.parse(req.body), JSON.parse(JSON.stringify(webhookPayload(report, 1))));
    assert.equal(JSON.parse(req.body).event, 'sluice.reconcile.drift');
  });

  test('a closed port does not throw: the failure is returned and logged without the secret path', async () => {
    const { log, warn } = recordingLog();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}${SLACK_PATH}`;
    const results = await sendAlerts(driftReport(), { slack: { webhookUrl: url } }, log, { timeoutMs: 2000 });
    assert.equal(results.length, 1);
    assert.equal(results[0]!.target, 'slack');
    assert.equal(results[0]!.ok, false);
    assert.match(results[0]!.error!, /ECONNREFUSED/);
    assert.equal(warn.length, 1);
    const logged = JSON.stringify(warn);
    assert.ok(logged.includes('slack'));
    assert.ok(logged.includes(`http://127.0.0.1:${port}/***`));
    assert.ok(!logged.includes(SECRET) && !logged.includes('/services/'), logged);
    assert.ok(!results[0]!.error!.includes(SECRET));
  });

  test('a server answering 500 then 500 is tried twice, then reported failed with status and body', async () => {
    const { log, warn } = recordingLog();
    const longBody = `internal error ${'x'.repeat(400)}`;
    slack.replies = [status(500, longBody), status(500, longBody)];
    const started = Date.now();
    const results = await sendAlerts(driftReport(), { slack: { webhookUrl: slack.url(SLACK_PATH) } }, log);
    assert.ok(Date.now() - started >= 900, 'the retry waits about 1 s');
    assert.equal(slack.received.length, 2);
    assert.equal(results[0]!.ok, false);
    assert.equal(results[0]!.error, `HTTP 500: ${longBody.slice(0, 200)}`);
    assert.equal(warn.length, 1);
    assert.ok(!JSON.stringify(warn).includes(SECRET));
  });

  test('a 429 is retried after its Retry-After, and a 5xx followed by a 2xx succeeds', async () => {
    const { log, warn } = recordingLog();
    slack.replies = [status(429, 'rate limited', { 'retry-after': '0' })];
    hook.replies = [status(503)];
    const results = await sendAlerts(
      driftReport(),
      { slack: { webhookUrl: slack.url(SLACK_PATH) }, webhook: { url: hook.url('/h') } },
      log,
    );
    assert.deepEqual(results, [
      { target: 'slack', ok: true },
      { target: 'webhook', ok: true },
    ]);
    assert.equal(slack.received.length, 2);
    assert.equal(hook.received.length, 2);
    assert.equal(warn.length, 0);
  });

  test('a 4xx other than 429 is final: not retried', async () => {
    const { log } = recordingLog();
    slack.replies = [status(404, 'no_service')];
    const started = Date.now();
    const results = await sendAlerts(driftReport(), { slack: { webhookUrl: slack.url(SLACK_PATH) } }, log);
    assert.ok(Date.now() - started < 900, 'no retry delay');
    assert.deepEqual(results, [{ target: 'slack', ok: false, error: 'HTTP 404: no_service' }]);
    assert.equal(slack.received.length, 1);
  });

  test('a server that never answers times out, twice, without throwing', async () => {
    const { log, warn } = recordingLog();
    slack.replies = [() => {}, () => {}];
    const results = await sendAlerts(driftReport(), { slack: { webhookUrl: slack.url(SLACK_PATH) } }, log, { timeoutMs: 150 });
    assert.deepEqual(results, [{ target: 'slack', ok: false, error: 'no answer within 150 ms' }]);
    assert.equal(slack.received.length, 2);
    assert.equal(warn.length, 1);
  });

  test('an unusable URL is reported, not thrown, and not logged', async () => {
    const { log, warn } = recordingLog();
    const results = await sendAlerts(driftReport(), { webhook: { url: `ftp://example.invalid/${SECRET}` } }, log);
    assert.deepEqual(results, [{ target: 'webhook', ok: false, error: 'webhook URL must be http(s), not ftp:' }]);
    assert.ok(!JSON.stringify(warn).includes(SECRET));
  });
});
