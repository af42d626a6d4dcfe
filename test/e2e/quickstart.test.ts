// The quick start as a user runs it: the CLI process on embedded PGlite, stopped cleanly, killed
// with SIGKILL mid-stream, and started again: it resumes and the target ends identical to the source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function runCli(
  args: string[],
  opts: { killAfterMs?: number } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SLUICE_LOG_LEVEL: 'error' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    if (opts.killAfterMs !== undefined) {
      // Kill only once the pipeline is running (its first line is printed after start-up).
      const wait = setInterval(() => {
        if (out.includes('Ctrl-C stops')) {
          clearInterval(wait);
          setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);
        }
      }, 50);
      child.once('exit', () => clearInterval(wait));
    }
    child.once('exit', (code, signal) => resolve({ code, signal, out }));
  });
}

test('quick start: a clean stop leaves the target identical; a restart says it resumes', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-qs-'));
  try {
    const first = await runCli(['quickstart', '--seconds', '3', '--rate', '300', '--data-dir', dir]);
    assert.equal(first.code, 0, first.out);
    // Says what it does before the seconds of first-run setup, not after.
    assert.match(first.out, /^sluice quick start: creating the embedded PostgreSQL databases \(PGlite\) in .*…\n(.*\n)*.*first run/m);
    assert.match(first.out, /identical/);
    // Created once and copied: both databases carry the quick start's small shared buffers.
    for (const db of ['source', 'target'])
      assert.match(readFileSync(join(dir, db, 'postgresql.auto.conf'), 'utf8'), /shared_buffers = '16MB'/);
    assert.ok(!existsSync(join(dir, '.initdb')), 'no scratch directory left behind');
    const killed = await runCli(['quickstart', '--rate', '300', '--data-dir', dir], { killAfterMs: 2500 });
    assert.equal(killed.signal, 'SIGKILL', killed.out);
    const again = await runCli(['quickstart', '--seconds', '2', '--rate', '300', '--data-dir', dir]);
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /^sluice quick start: opening the embedded databases in /m);
    assert.match(again.out, /resuming where it left off \(last applied outbox seq \d+/);
    assert.match(again.out, /target \{"coupon":\d+,"coupon_history":\d+\}  identical/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm start runs the sources as they are: nothing to compile before the first line, nothing again on the next start', () => {
  const { scripts } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    scripts: Record<string, string>;
  };
  assert.match(scripts.start!, /^node --import tsx src\/cli\/main\.ts quickstart$/);
});
