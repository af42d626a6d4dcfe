// The codec's registry client against sluice's own registry, started as a user starts it: the
// `sluice registry` command in its own process, state in embedded PGlite, bearer auth on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { RegistryClient } from '../../src/registry/client.js';
import { isSluiceError } from '../../src/core/errors.js';
import { registryClientContract } from './registry-client.contract.js';

const TOKEN = 'test-token-0123456789';

export async function startRegistryProcess(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'registry', '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SLUICE_LOG_LEVEL: 'warn', ...env },
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`sluice registry exited with ${code}: ${err}`)));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

describe('sluice registry (CLI process, PGlite state, bearer auth)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-registry-'));
  let reg: Awaited<ReturnType<typeof startRegistryProcess>>;
  before(async () => {
    reg = await startRegistryProcess(dir, { SLUICE_REGISTRY_TOKENS: TOKEN });
  });
  after(async () => {
    await reg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  registryClientContract('sluice', () => ({ url: reg.url, auth: { token: TOKEN } }));

  test('without the token every call is refused with 401, and the secret is not in the answer', async () => {
    await assert.rejects(
      new RegistryClient({ url: reg.url }).listSubjects(),
      (e) => isSluiceError(e, 'SLUICE_ERR_REGISTRY') && e.context.status === 401 && !e.message.includes(TOKEN),
    );
    await assert.rejects(
      new RegistryClient({ url: reg.url, auth: { token: 'wrong' } }).getSchemaById(1),
      (e) => isSluiceError(e) && e.context.status === 401,
    );
  });

  test('ids and versions survive a restart of the process', async () => {
    const c = new RegistryClient({ url: reg.url, auth: { token: TOKEN } });
    const schema = JSON.stringify({ type: 'record', name: 'Restart', fields: [{ name: 'a', type: 'long' }] });
    const id = await c.register('restart-value', schema);
    const before = await c.getVersion('restart-value', 'latest');
    await reg.stop();
    reg = await startRegistryProcess(dir, { SLUICE_REGISTRY_TOKENS: TOKEN });
    const c2 = new RegistryClient({ url: reg.url, auth: { token: TOKEN } });
    assert.equal(await c2.register('restart-value', schema), id);
    assert.deepEqual(await c2.getVersion('restart-value', 'latest'), before);
    assert.equal(JSON.parse(await c2.getSchemaById(id)).name, 'Restart');
  });
});
