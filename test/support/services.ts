// Test support: start an external service as a child process, wait until it answers, stop it after.
// Integration suites may skip on a laptop without the service, never in CI (CI=true): there, a
// missing service is a failure.
import { spawn, type ChildProcess } from 'node:child_process';
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

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface Service { url: string; process: ChildProcess; stop(): Promise<void> }

/** Spawns `cmd args` and polls `readyUrl` until it answers 2xx, for at most `timeoutMs`. */
export async function startService(cmd: string, args: string[], readyUrl: string, url: string, timeoutMs = 240_000): Promise<Service> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  child.stderr!.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  let exited = false;
  child.once('exit', () => { exited = true; });
  const stop = async () => {
    if (exited) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* already gone */ }
    const t = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 10_000);
    await gone;
    clearTimeout(t);
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${cmd} exited before it was ready:\n${log}`);
    try {
      const res = await fetch(readyUrl, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return { url, process: child, stop };
    } catch { /* not yet */ }
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
