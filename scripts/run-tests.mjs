#!/usr/bin/env node
// Runs every test file under test/ with node's own test runner (Node 20 has no --test glob for .ts).
// Usage: npm test [-- path-filter ...]  e.g. `npm test -- registry` runs files whose path contains "registry".
//
// A hang fails the run instead of eating CI's time: the runner treats each file as one test, so
// --test-timeout bounds each file (SLUICE_TEST_FILE_TIMEOUT_MS to change it); a file past it is
// cancelled and fails. The run has its own process group, and whatever a killed file had started
// and left behind (a `sluice run` child, a Kafka broker) is killed with it when the run ends.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

// Above the slowest file with room to spare: test/e2e/faults.test.ts took 2.6 min on the 2-core
// machine with one CPU hog per core beside other work (load average 12–17; .ci/run's fault step),
// and a file whose before hook fetches a peer from Maven Central on a fresh machine allows itself
// 10 min for that alone.
const FILE_TIMEOUT_MS = Number(process.env.SLUICE_TEST_FILE_TIMEOUT_MS ?? 15 * 60_000);

const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.test.ts') && (filters.length === 0 || filters.some((f) => p.includes(f)))) files.push(p);
  }
})('test');
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', `--test-timeout=${FILE_TIMEOUT_MS}`, ...files],
  {
    stdio: 'inherit',
    detached: true,
  },
);
const killGroup = (sig) => {
  try {
    process.kill(-child.pid, sig);
  } catch {
    // nothing left
  }
};
// Detached, the run no longer gets the terminal's Ctrl-C: pass it on.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => killGroup(sig));
child.on('close', (code, signal) => {
  killGroup('SIGKILL');
  process.exit(code ?? (signal ? 1 : 0));
});
