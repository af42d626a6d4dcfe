// docs/grafana-dashboard.json and docs/prometheus-alerts.yml against what the code exports: every
// sluice metric a panel or a rule selects is one /metrics serves (taken from an exporter given every
// source it can read, so each registration shows), every label a selector matches on is one that
// metric carries, and a stage it names is one the tracker reports. A metric renamed in metrics.ts
// without these files fails here instead of leaving an empty panel or an alert that never fires.
// The per-table stage lag has its panel and its alert rule.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Source } from '../../src/core/contracts.js';
import { PipelineTracker } from '../../src/observe/tracker.js';
import { pipelineMetrics } from '../../src/observe/metrics.js';
import { parsePrometheus, type Sample } from './prometheus-text.js';

const docs = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

interface Panel {
  id: number;
  type: string;
  title: string;
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: Array<{ expr: string; legendFormat?: string }>;
}
interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const grafana = JSON.parse(docs('grafana-dashboard.json')) as { panels: Panel[] };
const rules = (parseYaml(docs('prometheus-alerts.yml')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);

/** What /metrics serves with every source present (a Kafka-path tracker: all three stages; partitions; source gauges), each labelled series once. */
async function exported(): Promise<{ types: Map<string, string>; samples: Sample[] }> {
  const tracker = new PipelineTracker({ tables: ['public.coupon'], sampleEveryMs: 0 });
  const idle: Source = {
    name: 'idle',
    tables: async () => [],
    start: () => ({ [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }) }),
    acknowledge: async () => {},
    stop: async () => {},
  };
  try {
    tracker.observeSource(idle, { published: true });
    // Counters by code and cause have a series only once something was counted.
    tracker.noteApplyError({ code: 'SLUICE_ERR_APPLY' });
    tracker.applyRetries.set('deadlock', 1);
    const text = await pipelineMetrics({
      pipeline: 'monitoring-files',
      stats: { captured: 0, published: 0, applied: 0, skipped: 0, deadLettered: 0, backlog: 0, lagMs: () => 0 },
      tracker,
      positions: () => [{ topic: 'coupons', partition: 0, highWatermark: 1n, committable: 1n, committed: 1n }],
      sourceGauges: () => ({ retainedBytes: 0, snapshots: [{ table: 'public.coupon', rows: 0, estimate: 0, done: false }] }),
    }).metrics();
    const types = new Map<string, string>();
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1]!, m[2]!);
    return { types, samples: parsePrometheus(text) };
  } finally {
    tracker.close();
  }
}

interface Selector {
  metric: string;
  matchers: Array<{ label: string; op: string; value: string }>;
}

/** The sluice metrics a PromQL expression selects, with their label matchers. */
function selectors(expr: string): Selector[] {
  return [...expr.matchAll(/\b(sluice_[a-z0-9_]+)(?:\{([^}]*)\})?/g)].map((m) => ({
    metric: m[1]!,
    matchers: [...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map((l) => ({
      label: l[1]!,
      op: l[2]!,
      value: l[3]!,
    })),
  }));
}

/** Why a selector does not fit what is exported, or undefined when it does. */
function mismatch(s: Selector, ex: { types: Map<string, string>; samples: Sample[] }): string | undefined {
  const base = s.metric.replace(/_(bucket|sum|count)$/, '');
  const known = ex.types.has(s.metric) || (base !== s.metric && ex.types.get(base) === 'histogram');
  if (!known) return `${s.metric} is not exported`;
  const series = ex.samples.filter((x) => x.name === s.metric);
  for (const m of s.matchers) {
    if (!series.some((x) => m.label in x.labels)) return `${s.metric} has no label ${m.label}`;
    // Stages are the code's fixed set; other values (tables, topics) depend on the pipeline.
    if (m.label === 'stage' && m.op === '=' && !series.some((x) => x.labels.stage === m.value))
      return `${s.metric} has no stage "${m.value}"`;
  }
  return undefined;
}

describe('Grafana dashboard and Prometheus rules select what /metrics exports', () => {
  test('every panel query', async () => {
    const ex = await exported();
    const ids = grafana.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const p of grafana.panels)
      for (const t of p.targets ?? []) {
        const sel = selectors(t.expr);
        assert.ok(sel.length > 0, `${p.title}: ${t.expr} selects no sluice metric`);
        for (const s of sel) assert.equal(mismatch(s, ex), undefined, `${p.title}: ${t.expr}`);
      }
  });

  test('every alert rule', async () => {
    const ex = await exported();
    for (const r of rules) {
      assert.ok(r.annotations?.summary, `${r.alert} has a summary`);
      for (const s of selectors(r.expr)) assert.equal(mismatch(s, ex), undefined, `${r.alert}: ${r.expr}`);
    }
  });

  test('the per-table stage lag: a time series of every stage by table, and an alert on the applied stage', () => {
    const panel = grafana.panels.find((p) =>
      p.targets?.some((t) => selectors(t.expr).some((s) => s.metric === 'sluice_table_stage_lag_seconds')),
    );
    assert.ok(panel, 'a panel selects sluice_table_stage_lag_seconds');
    assert.equal(panel.type, 'timeseries');
    assert.equal(panel.fieldConfig?.defaults?.unit, 's');
    const target = panel.targets!.find((t) => t.expr.includes('sluice_table_stage_lag_seconds'))!;
    // No stage filter: one line per table and stage, each named by both.
    assert.ok(!selectors(target.expr).some((s) => s.matchers.some((m) => m.label === 'stage')), target.expr);
    assert.match(target.legendFormat ?? '', /\{\{table\}\}.*\{\{stage\}\}/);

    const rule = rules.find((r) => r.alert === 'SluiceTableApplyLagHigh');
    assert.ok(rule, 'an alert rule SluiceTableApplyLagHigh');
    const sel = selectors(rule.expr);
    assert.deepEqual(
      sel.map((s) => [s.metric, s.matchers.map((m) => `${m.label}${m.op}${m.value}`)]),
      [['sluice_table_stage_lag_seconds', ['stage=applied']]],
    );
    assert.match(rule.expr, /> \d+$/);
    assert.match(rule.for ?? '', /^\d+[smh]$/, 'it fires only after the lag held for a while');
    assert.match(rule.annotations!.summary!, /\$labels\.table/);
  });
});
