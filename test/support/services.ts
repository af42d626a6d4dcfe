// Test support: start an external service as a child process, wait until it answers, stop it after.
// Integration suites may skip on a laptop without the service, never in CI (CI=true): there, a
// missing service is a failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export function inCI(): boolean {
  return !!process.env.CI && process.env.CI !== 'false';
}

/** Returns a reason to skip when `available` is false outside CI; throws in CI. */
export function skipUnless(available: boolean, what: string): string | false {
  if (available) return false;
  if (inCI()) throw new Error(`${what} is required in CI but is not available`);
  return `${what} not available on this machine`;
}

/**
 * A port free now, below the kernel's ephemeral range where one exists. The server a test starts
 * on it later, or stops and starts again (a database restart), must find it still free: inside
 * the ephemeral range any outgoing connection on the machine may take it meanwhile (a client
 * reconnecting to that very port can even connect to itself). dev/kafka/start.sh does the same.
 */
export async function freePort(): Promise<number> {
  let lo = 0;
  try {
    lo = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    // Not Linux: the system's choice.
  }
  if (lo > 12_000) {
    for (let i = 0; i < 200; i++) {
      const port = 10_000 + Math.floor(Math.random() * (lo - 10_000));
      if (
        await listenOn(port).then(
          () => true,
          () => false,
        )
      )
        return port;
    }
  }
  return listenOn(0);
}

function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const { port: bound } = srv.address() as { port: number };
      srv.close(() => resolve(bound));
    });
  });
}

export interface Service {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Spawns `cmd args` and polls `readyUrl` until it answers 2xx, for at most `timeoutMs`. */
export async function startService(cmd: string, args: string[], readyUrl: string, url: string, timeoutMs = 240_000): Promise<Service> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  child.stderr!.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const stop = async () => {
    if (exited) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      /* already gone */
    }
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 10_000);
    await gone;
    clearTimeout(t);
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${cmd} exited before it was ready:\n${log}`);
    try {
      const res = await fetch(readyUrl, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return { url, process: child, stop };
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new Error(`${cmd} not ready after ${timeoutMs} ms:\n${log}`);
}

export function hasCommand(cmd: string): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    p.once('exit', (code) => resolve(code === 0));
    p.once('error', () => resolve(false));
  });
}
