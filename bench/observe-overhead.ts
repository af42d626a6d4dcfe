// End-to-end throughput of a direct PostgreSQL → PostgreSQL pipeline with the observe server, and
// with the server and one dashboard open in headless Chromium (polling every 2 s), each as a ratio
// to the same run with observe.enabled: false. The per-table tracker (a wrapper around source and
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

async function once(mode: 'off' | 'server' | 'dashboard'): Promise<number> {
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
  try {
    if (browser) await (await browser.newPage()).goto(p.observeUrl!, { waitUntil: 'load' });
    while (p.stats.applied < ROWS / 5) await new Promise((r) => setTimeout(r, 5));
    const [from, started] = [p.stats.applied, performance.now()];
    while (p.stats.applied < ROWS) await new Promise((r) => setTimeout(r, 5));
    return (ROWS - from) / ((performance.now() - started) / 1000);
  } finally {
    await p.stop();
    await browser?.close();
    await Promise.all([src.drop(), dst.drop()]);
  }
}

const runs = { off: [] as number[], server: [] as number[], dashboard: [] as number[] };
for (let r = 0; r < ROUNDS; r++) for (const mode of ['off', 'server', 'dashboard'] as const) runs[mode].push(await once(mode));
const best = (a: number[]) => Math.max(...a);
console.log(
  JSON.stringify({
    bench: 'observe-overhead',
    rows: ROWS,
    rounds: ROUNDS,
    offRowsPerSec: runs.off.map(Math.round),
    serverRowsPerSec: runs.server.map(Math.round),
    dashboardRowsPerSec: runs.dashboard.map(Math.round),
  }),
);
console.log(
  `| observe server on / with the dashboard open vs observe off | ${Math.round(best(runs.server))} / ${Math.round(best(runs.dashboard))} vs ${Math.round(best(runs.off))} rows/s | ratio ${(best(runs.server) / best(runs.off)).toFixed(3)} / ${(best(runs.dashboard) / best(runs.off)).toFixed(3)} |`,
);
