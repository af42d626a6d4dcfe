// Retries by cause: each transient apply failure a dialect announces on sluice:apply:retry is
// counted in sluice_apply_retries_total{cause}.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channel } from 'node:diagnostics_channel';
import { PipelineTracker } from '../../src/observe/tracker.js';
import { pipelineMetrics } from '../../src/observe/metrics.js';
import { PipelineStats } from '../../src/pipeline/stats.js';

test('apply retries announced by the dialects are counted by cause', async (t) => {
  const tracker = new PipelineTracker({ tables: ['public.t'], sampleEveryMs: 0 });
  t.after(() => tracker.close());
  const retries = channel('sluice:apply:retry');
  retries.publish({ dialect: 'mysql', cause: 'deadlock', errno: 1213 });
  retries.publish({ dialect: 'mysql', cause: 'deadlock', errno: 1213 });
  retries.publish({ dialect: 'mysql', cause: 'lock_wait_timeout', errno: 1205 });
  const text = await pipelineMetrics({ pipeline: 'p', stats: new PipelineStats(), tracker }).metrics();
  assert.match(text, /^sluice_apply_retries_total\{[^}]*cause="deadlock"[^}]*\} 2$/m);
  assert.match(text, /^sluice_apply_retries_total\{[^}]*cause="lock_wait_timeout"[^}]*\} 1$/m);
});
