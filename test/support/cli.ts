// Runs the `sluice` command as a user would (through tsx, from the repository root) and returns
// its exit code and everything it printed; a non-zero exit is a result, not a rejection.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export async function sluiceCli(
  args: string[],
  env: NodeJS.ProcessEnv = { ...process.env, SLUICE_LOG_LEVEL: 'error' },
): Promise<{ code: number; out: string }> {
  try {
    const r = await exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}
