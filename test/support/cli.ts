// Runs the `sluice` command as a user would (through tsx, from the repository root): to its end,
// returning its exit code and everything it printed (a non-zero exit is a result, not a
// rejection), or left running, as a server (`sluice dashboard`, `sluice quickstart`), for the
// test to read its lines and stop it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const QUIET = { ...process.env, SLUICE_LOG_LEVEL: 'error' };

export async function sluiceCli(args: string[], env: NodeJS.ProcessEnv = QUIET): Promise<{ code: number; out: string }> {
  try {
    const r = await exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

/** A `sluice` command left running. */
export interface SluiceProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far, stdout then stderr (for failure messages). */
  output(): string;
  /** The first line on stdout that matches (any line without a pattern); rejects if it ends without printing one. */
  line(pattern?: RegExp): Promise<string>;
  /** SIGTERM, then its exit code once it has ended (null: ended by a signal). */
  stop(): Promise<number | null>;
  /** SIGKILL unless it has ended, then once it has: for a finally, so that a failed test leaves nothing running. */
  kill(): Promise<void>;
}

export function spawnSluice(args: string[], env: NodeJS.ProcessEnv = QUIET): SluiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const seen = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    for (const f of [...seen]) f();
  });
  // 'close', not 'exit': the last lines may still be in the pipe when the process exits.
  let ended = false;
  const closed = once(child, 'close').then(([code]) => {
    ended = true;
    for (const f of [...seen]) f();
    return code as number | null;
  });
  const output = () => `${lines.join('\n')}\n${stderr}`;
  return {
    child,
    output,
    line: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const hit = lines.find((l) => !pattern || pattern.test(l));
          if (hit === undefined && !ended) return;
          seen.delete(check);
          if (hit !== undefined) resolve(hit);
          else
            reject(
              new Error(
                `sluice ${args[0]} ended (${child.exitCode ?? child.signalCode}) before printing ${pattern ?? 'a line'}:\n${output()}`,
              ),
            );
        };
        seen.add(check);
        check();
      }),
    stop: () => {
      if (!ended) child.kill('SIGTERM');
      return closed;
    },
    kill: async () => {
      if (!ended) child.kill('SIGKILL');
      await closed;
    },
  };
}
