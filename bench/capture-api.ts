// Benchmark: changes per second accepted through POST /v1/changes (batches of 100 and of 1, full
// coupon row images, validated and coerced, no-op `accept`), with the load generator (autocannon)
// in another process. The reference, measured in the same run on the same server: GET /healthz
// requests per second (the HTTP framework's ceiling); ratio = changes/s ÷ healthz req/s.
// Run: npm run bench -- capture-api   (env BENCH_SECONDS, BENCH_CONNECTIONS)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCaptureApi } from '../src/capture/api/index.js';
import type { TableSchema } from '../src/core/table-schema.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);

// The quickstart's coupon table (src/quickstart/tables.ts).
const coupon: TableSchema = {
  name: 'coupon',
  columns: [
    { name: 'id', type: { kind: 'int64' }, nullable: false },
    { name: 'code', type: { kind: 'string' }, nullable: false },
    { name: 'discount', type: { kind: 'decimal', precision: 10, scale: 2 }, nullable: false },
    { name: 'description', type: { kind: 'string' }, nullable: true },
    { name: 'valid_until', type: { kind: 'timestamptz' }, nullable: true },
    { name: 'created_at', type: { kind: 'timestamp' }, nullable: false },
    { name: 'redeemed_count', type: { kind: 'int32' }, nullable: false },
  ],
  primaryKey: ['id'],
};
const change = (i: number) => ({
  table: 'coupon',
  op: 'u',
  row: {
    id: String(1_000_000_000_000 + i),
    code: `SPRING-${i}`,
    discount: '12.50',
    description: 'Spring sale, one per customer',
    valid_until: '2025-06-30T23:59:59.999999+02:00',
    created_at: '2025-03-01 09:00:00.123456',
    redeemed_count: i % 7,
  },
  context: 'bench',
});

let accepted = 0;
const api = createCaptureApi({ tables: [coupon], logger: false, accept: async (changes) => void (accepted += changes.length) });
const url = await api.listen(0);
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-capture-'));
const autocannon = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

interface Run {
  req_per_s: number;
  p50_ms: number;
  p99_ms: number;
  requests: number;
}

/** autocannon in its own process; this process keeps serving meanwhile (so: spawn, not spawnSync). */
async function load(path: string, body: unknown, secs = seconds): Promise<Run> {
  const args = [autocannon, '-j', '-c', String(connections), '-d', String(secs)];
  if (body !== undefined) {
    const file = join(dir, 'body.json');
    writeFileSync(file, JSON.stringify(body));
    args.push('-m', 'POST', '-H', 'content-type=application/json', '-i', file);
  }
  args.push(`${url}${path}`);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`autocannon exited ${code}: ${err}`);
  const r = JSON.parse(out) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
  };
  if (r.non2xx || r.errors) throw new Error(`${path}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { req_per_s: Math.round(r.requests.average), p50_ms: r.latency.p50, p99_ms: r.latency.p99, requests: r.requests.total };
}

try {
  const batch100 = { changes: Array.from({ length: 100 }, (_, i) => change(i)) };
  const single = change(1);
  // Warm-up (JIT, connection pools), not reported.
  await load('/v1/changes', batch100, 2);
  await load('/v1/changes', single, 2);
  await load('/healthz', undefined, 2);

  const healthz = await load('/healthz', undefined);
  accepted = 0;
  const b100 = await load('/v1/changes', batch100);
  const accepted100 = accepted;
  accepted = 0;
  const b1 = await load('/v1/changes', single);
  const accepted1 = accepted;

  const changesPerS100 = b100.req_per_s * 100;
  const changesPerS1 = b1.req_per_s;
  const result = {
    bench: 'capture-api',
    seconds,
    connections,
    node: process.version,
    batch_100: { ...b100, changes_per_s: changesPerS100, accepted: accepted100, body_bytes: JSON.stringify(batch100).length },
    batch_1: { ...b1, changes_per_s: changesPerS1, accepted: accepted1, body_bytes: JSON.stringify(single).length },
    reference_get_healthz: healthz,
    ratio_batch_100_changes_to_healthz: Number((changesPerS100 / healthz.req_per_s).toFixed(3)),
    ratio_batch_1_changes_to_healthz: Number((changesPerS1 / healthz.req_per_s).toFixed(3)),
  };
  console.log(JSON.stringify(result));
  console.log(
    `| capture POST /v1/changes | batch 100: ${changesPerS100} changes/s (p50 ${b100.p50_ms} ms, p99 ${b100.p99_ms} ms) | batch 1: ${changesPerS1} changes/s (p50 ${b1.p50_ms} ms) | GET /healthz ${healthz.req_per_s} req/s | ratio **${result.ratio_batch_100_changes_to_healthz}** (batch 100), **${result.ratio_batch_1_changes_to_healthz}** (batch 1) |`,
  );
} finally {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
}
