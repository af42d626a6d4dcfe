// A TCP proxy that holds every chunk for DELAY_MS in each direction: a database "over a network",
// where every statement costs about one round trip (2 × DELAY_MS) on top of its own work.
// Runs as its own process so its work does not share the measured process's event loop.
//   startLatencyProxy(upstreamPort, 1) → { port, kind, lateness(), stop }   (bench/e2e-pipeline.ts)
// Order is kept: chunks of one direction are forwarded in arrival order, each at arrival + delay.
//
// The proxy is latency-proxy.c, built here with the system's C compiler: a Node proxy's timers
// count whole milliseconds against a loop clock read once per iteration, and under the concurrency
// benchmark's load its 1 ms hold measured 1.7-2 ms (p90 ~3 ms), so the emulated network got
// slower as the machine got busier. Without a C compiler (or with SLUICE_BENCH_PROXY=node) the
// Node proxy below serves (kind 'node'), and lateness() says how far off it was.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Lateness {
  /** How late chunks left against arrival + delay, since the previous call: mean and p90, in µs. */
  readonly meanUs: number;
  readonly p90Us: number;
  readonly chunks: number;
}

export interface LatencyProxy {
  readonly port: number;
  readonly kind: 'c' | 'node';
  /** The emulation's own error since the previous call (or since start). */
  lateness(): Promise<Lateness>;
  stop(): Promise<void>;
}

/** The C proxy's binary, built once per source change; undefined without a working C compiler. */
function cProxy(): string | undefined {
  const source = fileURLToPath(new URL('./latency-proxy.c', import.meta.url));
  const dir = join(tmpdir(), 'sluice-bench');
  const binary = join(dir, `latency-proxy-${Math.round(statSync(source).mtimeMs)}`);
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  // Built under another name and renamed: a failed build never leaves a file under the real one.
  const partial = `${binary}.${process.pid}`;
  try {
    execFileSync(process.env.CC ?? 'cc', ['-O2', '-o', partial, source], { stdio: 'ignore' });
    renameSync(partial, binary);
    return binary;
  } catch {
    rmSync(partial, { force: true });
    return undefined;
  }
}

// --- the Node fallback (runs as the child process: see the end of this file) ---------------------

const late: number[] = [];

function delayed(to: net.Socket, ms: number): (chunk: Buffer) => void {
  const queue: Array<{ at: number; chunk: Buffer }> = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length && queue[0]!.at <= now) {
      const q = queue.shift()!;
      late.push(now - q.at);
      to.write(q.chunk);
    }
    if (queue.length) timer = setTimeout(flush, Math.max(0, queue[0]!.at - now));
  };
  return (chunk) => {
    queue.push({ at: performance.now() + ms, chunk });
    timer ??= setTimeout(flush, ms);
  };
}

function serve(upstreamPort: number, ms: number): void {
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const up = net.connect(upstreamPort, '127.0.0.1');
    up.setNoDelay(true);
    client.on('data', delayed(up, ms));
    up.on('data', delayed(client, ms));
    const end = () => {
      client.destroy();
      up.destroy();
    };
    client.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  // Same line as the C proxy's: "late <mean µs> <p90 µs> <chunks>".
  process.on('SIGUSR1', () => {
    const s = late.splice(0).sort((a, b) => a - b);
    const mean = s.length ? (s.reduce((a, b) => a + b, 0) / s.length) * 1000 : 0;
    const p90 = s.length ? s[Math.min(s.length - 1, Math.ceil(s.length * 0.9) - 1)]! * 1000 : 0;
    process.stdout.write(`late ${Math.round(mean)} ${Math.round(p90)} ${s.length}\n`);
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`));
}

/** Starts the proxy in a child process; resolves with its port. */
export function startLatencyProxy(upstreamPort: number, delayMs: number): Promise<LatencyProxy> {
  const binary = process.env.SLUICE_BENCH_PROXY === 'node' ? undefined : cProxy();
  const child = binary
    ? spawn(binary, [String(upstreamPort), String(Math.round(delayMs * 1000))], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), String(upstreamPort), String(delayMs)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
  child.stdout.setEncoding('utf8');
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let rest = '';
  child.stdout.on('data', (d: string) => {
    rest += d;
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  const nextLine = () => new Promise<string>((r) => (lines.length ? r(lines.shift()!) : waiting.push(r)));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    void nextLine().then((first) =>
      resolve({
        port: Number(first.trim()),
        kind: binary ? 'c' : 'node',
        lateness: async () => {
          const line = nextLine();
          child.kill('SIGUSR1');
          const [, mean, p90, n] = (await line).trim().split(' ').map(Number);
          return { meanUs: mean!, p90Us: p90!, chunks: n! };
        },
        stop: () =>
          new Promise<void>((r) => {
            child.once('exit', () => r());
            child.kill();
          }),
      }),
    );
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) serve(Number(process.argv[2]), Number(process.argv[3]));
