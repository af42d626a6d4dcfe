// dev/kafka/stop.sh with --wipe deletes a cluster directory. An empty --dir (an unset variable in
// a caller such as .ci/run's exit trap) once resolved to the current directory and deleted it,
// with the whole checkout; and a directory start.sh did not make is never deleted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const STOP = resolve('dev/kafka/stop.sh');

async function stop(cwd: string, ...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run('bash', [STOP, ...args], { cwd });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? '' };
  }
}

test('an empty --dir is refused and deletes nothing; --wipe deletes only a directory start.sh made', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-stop-'));
  try {
    writeFileSync(join(root, 'keep.txt'), 'precious');
    const empty = await stop(root, '--dir', '', '--wipe');
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /--dir needs a cluster directory/);
    assert.ok(existsSync(join(root, 'keep.txt')), 'the current directory survives');

    const plain = join(root, 'not-a-cluster');
    mkdirSync(plain);
    assert.equal((await stop(root, '--dir', plain, '--wipe')).code, 0);
    assert.ok(existsSync(plain), 'a directory without cluster.env is kept');

    const cluster = join(root, 'cluster');
    mkdirSync(cluster);
    writeFileSync(join(cluster, 'cluster.env'), 'BROKERS=1\n');
    assert.equal((await stop(root, '--dir', cluster, '--wipe')).code, 0);
    assert.ok(!existsSync(cluster), 'a cluster directory is wiped');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
