// member-slot.ts: the group.instance.id of static membership comes back to a process restarted
// after kill -9 on the same host, and is never held by two live members at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { claimMemberSlot } from '../../src/transport/kafka/member-slot.js';
import { uniqueName } from '../support/kafka.js';

test('slots: distinct while held, the lowest free one is claimed, released on release()', async (t) => {
  const group = uniqueName('slot');
  const a = (await claimMemberSlot(group, 'h'))!;
  t.after(() => a.release());
  const b = (await claimMemberSlot(group, 'h'))!;
  t.after(() => b.release());
  assert.equal(a.instanceId, 'sluice-h-0');
  assert.equal(b.instanceId, 'sluice-h-1');
  const other = (await claimMemberSlot(uniqueName('other-group'), 'h'))!;
  t.after(() => other.release());
  assert.equal(other.instanceId, 'sluice-h-0', 'slots are per group');
  await a.release();
  const again = (await claimMemberSlot(group, 'h'))!;
  t.after(() => again.release());
  assert.equal(again.instanceId, 'sluice-h-0');
});

test('a process killed with SIGKILL leaves its slot free for the next one', { timeout: 60_000 }, async (t) => {
  const group = uniqueName('slot-kill');
  const code = `const m = await import(${JSON.stringify(new URL('../../src/transport/kafka/member-slot.ts', import.meta.url).href)});
    const s = await m.claimMemberSlot(${JSON.stringify(group)}, 'h'); console.log(s.instanceId); setInterval(() => {}, 60000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => void child.kill('SIGKILL'));
  const exited = once(child, 'exit');
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  assert.equal(line, 'sluice-h-0');
  const meanwhile = (await claimMemberSlot(group, 'h'))!;
  assert.equal(meanwhile.instanceId, 'sluice-h-1', 'held by the live child');
  await meanwhile.release();
  child.kill('SIGKILL');
  await exited;
  const after = (await claimMemberSlot(group, 'h'))!;
  t.after(() => after.release());
  assert.equal(after.instanceId, 'sluice-h-0');
});
