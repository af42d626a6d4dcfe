// Benchmark: GET /schemas/ids/{id} requests per second against a running `sluice registry` (its own
// process, embedded PGlite store), with the load generator (autocannon) in a third process. The
// reference, measured in the same run on the same server: GET / (the HTTP framework's ceiling).
// Run: npm run bench -- registry   (env BENCH_SECONDS, BENCH_CONNECTIONS)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { RegistryClient } from '../src/registry/client.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-registry-'));
const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
if (build.status !== 0) throw new Error('build failed');

const server = spawn(process.execPath, ['dist/cli/main.js', 'registry', '--port', '0', '--data-dir', dir], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' },
});
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  server.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /listening on (\S+)/.exec(out);
    if (m) resolve(m[1]!);
  });
  server.once('exit', (code) => reject(new Error(`registry exited ${code}`)));
});

try {
  const client = new RegistryClient({ url });
  let id = 0;
  for (let i = 0; i < 20; i++) {
    id = await client.register(
      `bench-value-${i}`,
      JSON.stringify({
        type: 'record',
        name: `R${i}`,
        namespace: 'bench',
        fields: Array.from({ length: 12 }, (_, f) => ({ name: `f${f}`, type: f % 2 ? 'string' : 'long' })),
      }),
    );
  }
  const autocannon = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  const load = (path: string) => {
    const res = spawnSync(process.execPath, [autocannon, '-j', '-c', String(connections), '-d', String(seconds), `${url}${path}`], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (res.status !== 0) throw new Error(res.stderr);
    const r = JSON.parse(res.stdout) as {
      requests: { average: number };
      latency: { p50: number; p99: number };
      non2xx: number;
      errors: number;
    };
    if (r.non2xx || r.errors) throw new Error(`${path}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    return { req_per_s: Math.round(r.requests.average), p50_ms: r.latency.p50, p99_ms: r.latency.p99 };
  };
  load(`/schemas/ids/${id}`); // warm-up
  const ids = load(`/schemas/ids/${id}`);
  const root = load('/');
  const result = {
    bench: 'registry-http',
    seconds,
    connections,
    get_schema_by_id: ids,
    reference_get_root: root,
    ratio_to_root: Number((ids.req_per_s / root.req_per_s).toFixed(3)),
  };
  console.log(JSON.stringify(result));
  console.log(
    `| registry GET /schemas/ids/{id} | ${ids.req_per_s} req/s (p50 ${ids.p50_ms} ms, p99 ${ids.p99_ms} ms) | GET / ${root.req_per_s} req/s | ratio **${result.ratio_to_root}** |`,
  );
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
