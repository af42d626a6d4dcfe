// End-to-end throughput of a direct PostgreSQL → PostgreSQL pipeline with the observe server; with
// the server polled as one open dashboard polls it (/api/status and /api/history every 2 s: what
// sluice pays for being watched); and with the dashboard open in headless Chromium on the same
// machine (the browser's own rendering then competes for the same cores); each as a ratio to the
// same run with observe.enabled: false. The per-table tracker (a wrapper around source and
// sink) runs in all three: it is part of the pipeline, not of the server. Throughput is measured
// in steady state: from the moment a fifth of the rows are applied (and the page has loaded) to the
// last row, so the one-time start of Chromium and of the page is not counted as overhead.
// Run: node --import tsx bench/observe-overhead.ts [ROWS=300000] [ROUNDS=2]
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import { parseConfig } from '../src/config/load.js';
import { runPipeline } from '../src/pipeline/run.js';
import { createOutboxWriter } from '../src/capture/outbox/writer.js';
import { scratchPostgres } from '../test/support/databases.js';

const ROWS = Number(process.argv[2] ?? 300_000);
const ROUNDS = Number(process.argv[3] ?? 2);
const CHROMIUM = '/usr/bin/chromium';

async function once(mode: 'off' | 'server' | 'polled' | 'dashboard'): Promise<number> {
  const observe = mode !== 'off';
  const [src, dst] = await Promise.all([scratchPostgres(), scratchPostgres()]);
  const writer = createOutboxWriter({ dialect: 'postgres' });
  const ddl = 'CREATE TABLE coupon (id bigint PRIMARY KEY, discount numeric(10,2) NOT NULL, code text NOT NULL)';
  await src.pool.query(`${ddl}; ${writer.ddl}`);
  await dst.pool.query(ddl);
  for (let i = 0; i < ROWS; i += 5000) {
    await writer.write(
      src.pool,
      Array.from({ length: Math.min(5000, ROWS - i) }, (_, j) => ({
        table: 'coupon',
        op: 'c' as const,
        row: { id: i + j + 1, discount: '5.00', code: `C${i + j + 1}` },
      })),
    );
  }
  const browser =
    mode === 'dashboard' && existsSync(CHROMIUM)
      ? await chromium.launch({
          executablePath: CHROMIUM,
          args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
          headless: true,
        })
      : undefined;
  const p = await runPipeline(
    parseConfig({
      name: 'observe-bench',
      source: {
        connector: 'outbox',
        connection: { dialect: 'postgres', url: src.url },
        tables: ['coupon'],
        pollIntervalMs: 20,
        batchSize: 5000,
      },
      transport: { kind: 'direct' },
      target: { connection: { dialect: 'postgres', url: dst.url } },
      apply: { batchSize: 5000 },
      observe: observe ? { port: 0 } : { enabled: false },
    }),
    pino({ level: 'silent' }),
  );
  let poller: NodeJS.Timeout | undefined;
  try {
    if (browser) await (await browser.newPage()).goto(p.observeUrl!, { waitUntil: 'load' });
    let since = 0;
    const poll = async () => {
      await (await fetch(new URL('/api/status', p.observeUrl))).json();
      const h = (await (await fetch(new URL(`/api/history?since=${since}`, p.observeUrl))).json()) as Array<{ t: number }>;
      if (h.length) since = h[h.length - 1]!.t;
    };
    if (mode === 'polled') await poll();
    poller = mode === 'polled' ? setInterval(() => void poll().catch(() => {}), 2_000) : undefined;
    while (p.stats.applied < ROWS / 5) await new Promise((r) => setTimeout(r, 5));
    const [from, started] = [p.stats.applied, performance.now()];
    while (p.stats.applied < ROWS) await new Promise((r) => setTimeout(r, 5));
    return (ROWS - from) / ((performance.now() - started) / 1000);
  } finally {
    clearInterval(poller);
    await p.stop();
    await browser?.close();
    await Promise.all([src.drop(), dst.drop()]);
  }
}

const runs = { off: [] as number[], server: [] as number[], polled: [] as number[], dashboard: [] as number[] };
for (let r = 0; r < ROUNDS; r++) for (const mode of ['off', 'server', 'polled', 'dashboard'] as const) runs[mode].push(await once(mode));
const best = (a: number[]) => Math.max(...a);
const ratio = (a: number[]) => (best(a) / best(runs.off)).toFixed(3);
console.log(
  JSON.stringify({
    bench: 'observe-overhead',
    rows: ROWS,
    rounds: ROUNDS,
    offRowsPerSec: runs.off.map(Math.round),
    serverRowsPerSec: runs.server.map(Math.round),
    polledRowsPerSec: runs.polled.map(Math.round),
    dashboardRowsPerSec: runs.dashboard.map(Math.round),
  }),
);
console.log(
  `| observe server / polled as by a dashboard / Chromium on the same host vs observe off | ${Math.round(best(runs.server))} / ${Math.round(best(runs.polled))} / ${Math.round(best(runs.dashboard))} vs ${Math.round(best(runs.off))} rows/s | ratio ${ratio(runs.server)} / **${ratio(runs.polled)}** / ${ratio(runs.dashboard)} |`,
);
