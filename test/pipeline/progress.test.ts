// The live progress line: lag while changes flow; when nothing has been applied for a while and
// nothing waits at the source, it says the pipeline is idle instead of repeating an old lag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDLE_AFTER_MS, progressLine, progressState } from '../../src/pipeline/progress.js';
import { PipelineStats } from '../../src/pipeline/stats.js';

test('the line shows the lag while changes are applied, and "idle, caught up" once none are', () => {
  const stats = new PipelineStats();
  const t0 = 1_000_000;
  const state = progressState(stats, t0);
  stats.captured = 5;
  stats.noteApplied({ applied: 5, skipped: 0, deadLettered: 0 }, new Date(Date.now() - 112).toISOString());
  const busy = progressLine(stats, state, t0 + 500);
  assert.match(busy, /^captured 5 {2}applied 5 {2}skipped 0 {2}dead 0 {2}backlog 0 {2}lag \d+ ms {2}10\/s$/);
  assert.doesNotMatch(busy, /idle/);

  assert.doesNotMatch(progressLine(stats, state, t0 + 500 + IDLE_AFTER_MS - 1), /idle/, 'a short pause is not idle');
  const idle = progressLine(stats, state, t0 + 500 + IDLE_AFTER_MS);
  assert.match(idle, /backlog 0 {2}lag 0 {2}idle, caught up$/);

  stats.backlog = 3;
  assert.match(progressLine(stats, state, t0 + 500 + 2 * IDLE_AFTER_MS), /backlog 3 {2}lag \d+ ms/, 'changes waiting: not caught up');
  stats.backlog = 0;
  stats.noteApplied({ applied: 1, skipped: 0, deadLettered: 0 }, new Date().toISOString());
  assert.match(progressLine(stats, state, t0 + 500 + 3 * IDLE_AFTER_MS), /lag \d+ ms {2}\d+\/s$/, 'a new change ends idle');
});

test('a running snapshot shows its table, share of the estimate, rate and time left', () => {
  const stats = new PipelineStats();
  const t0 = 2_000_000;
  const state = progressState(stats, t0);
  stats.snapshots = [
    { table: 'public.coupon', rows: 1000, estimate: 10_000, done: false },
    { table: 'public.history', rows: 0, estimate: 50, done: false },
  ];
  progressLine(stats, state, t0);
  stats.snapshots = [
    { table: 'public.coupon', rows: 3000, estimate: 10_000, done: false },
    { table: 'public.history', rows: 0, estimate: 50, done: false },
  ];
  assert.match(progressLine(stats, state, t0 + 1000), /snapshot public\.coupon 30% 3000\/10000 2000 rows\/s {2}ETA 3\.5 s \(\+1 more\)$/);
  stats.snapshots = [
    { table: 'public.coupon', rows: 10_000, estimate: 10_000, done: true },
    { table: 'public.history', rows: 50, estimate: 50, done: true },
  ];
  assert.doesNotMatch(progressLine(stats, state, t0 + 2000), /snapshot/, 'finished snapshots leave the line');
});
