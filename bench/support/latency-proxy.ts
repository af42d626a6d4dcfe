// A TCP proxy that holds every chunk for DELAY_MS in each direction: a database "over a network",
// where every statement costs about one round trip (2 × DELAY_MS) on top of its own work.
// Runs as its own process so its work does not share the measured process's event loop.
//   startLatencyProxy(upstreamPort, 1) → { port, stop }   (bench/e2e-pipeline.ts)
// Order is kept: chunks of one direction are forwarded in arrival order, each at arrival + delay.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export interface LatencyProxy {
  readonly port: number;
  stop(): Promise<void>;
}

function delayed(to: net.Socket, ms: number): (chunk: Buffer) => void {
  const queue: Array<{ at: number; chunk: Buffer }> = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length && queue[0]!.at <= now) to.write(queue.shift()!.chunk);
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
    const end = () => { client.destroy(); up.destroy(); };
    client.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`));
}

/** Starts the proxy in a child process; resolves with its port. */
export function startLatencyProxy(upstreamPort: number, delayMs: number): Promise<LatencyProxy> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), String(upstreamPort), String(delayMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (d: Buffer) => resolve({
      port: Number(d.toString().trim()),
      stop: () => new Promise<void>((r) => { child.once('exit', () => r()); child.kill(); }),
    }));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) serve(Number(process.argv[2]), Number(process.argv[3]));
