// The retained-WAL alert: WAL kept for the pipeline above observe.alerts.retainedBytes for
// forSeconds fires once at the webhook, and resolves once it is back under the limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { AlertMonitor, type AlertMessage } from '../../src/observe/alerts.js';

test('WAL kept above the limit for forSeconds fires once, then resolves when it drops', async (t) => {
  const got: AlertMessage[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += String(c)));
    req.on('end', () => {
      got.push(JSON.parse(body) as AlertMessage);
      res.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  let now = 0;
  let kept = 0;
  const quiet = { warn() {}, info() {} };
  const monitor = new AlertMonitor(
    'p',
    { forSeconds: 10, deadLetters: false, retainedBytes: 1000, minIntervalSeconds: 300 },
    { lagSeconds: () => 0, deadLettered: () => 0, retainedBytes: () => kept },
    { webhook: { url: `http://127.0.0.1:${port}/hook` } },
    quiet,
    { everyMs: 0, now: () => now },
  );
  kept = 5000;
  monitor.evaluate();
  now = 9_000;
  monitor.evaluate(); // held for 9 s: not yet
  now = 10_000;
  monitor.evaluate(); // 10 s: fires
  now = 11_000;
  monitor.evaluate(); // still above: nothing new
  kept = 10;
  now = 12_000;
  monitor.evaluate();
  now = 22_000;
  monitor.evaluate(); // clear for 10 s: resolved
  await monitor.close();
  assert.deepEqual(
    got.map((m) => [m.alert, m.status, m.value, m.threshold]),
    [
      ['retained_wal', 'firing', 5000, 1000],
      ['retained_wal', 'resolved', 10, 1000],
    ],
  );
  assert.match(got[0]!.summary, /keeps 0 MiB of WAL.*above 0 MiB/);
});
