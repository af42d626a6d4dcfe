/**
 * The generic webhook payload (one JSON object per alerting run), and the plain-text description of
 * a run that both it and the Slack payload use: the summary line and the repair outcome wording.
 * Pure functions over a ReconcileReport; sending is in ./index.ts. The shape is documented in
 * docs/reconcile-alerts.md: add fields, never rename or remove one.
 */
import { confirmedDrift, type ReconcileReport, type RepairOutcome, type TableReport } from '../report.js';

/** Keys of each kind an alert shows per table when the caller does not say. */
export const DEFAULT_TOP_KEYS = 5;

export const WEBHOOK_EVENT = 'sluice.reconcile.drift';

export interface WebhookTable {
  table: string;
  target: string;
  missing: number;
  extra: number;
  different: number;
  inFlight: number;
  topKeys: { missing: string[]; extra: string[]; different: string[] };
  repair: RepairOutcome;
  /** Why the table could not be reconciled; null when it was. */
  error: string | null;
}

export interface WebhookPayload {
  event: typeof WEBHOOK_EVENT;
  name: string;
  /** The report store's id, null when the report was not saved before alerting. */
  reportId: number | null;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Every table of the run, in sync or not, in run order. */
  tables: WebhookTable[];
  summary: string;
}

export function webhookPayload(report: ReconcileReport, topKeys: number = DEFAULT_TOP_KEYS): WebhookPayload {
  const n = keyCount(topKeys);
  return {
    event: WEBHOOK_EVENT,
    name: report.name,
    reportId: report.id ?? null,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    durationMs: report.durationMs,
    tables: report.tables.map((t) => ({
      table: t.table,
      target: t.target,
      missing: t.missing,
      extra: t.extra,
      different: t.different,
      inFlight: t.inFlight,
      topKeys: { missing: t.keys.missing.slice(0, n), extra: t.keys.extra.slice(0, n), different: t.keys.different.slice(0, n) },
      repair: t.repair,
      error: t.error ?? null,
    })),
    summary: alertSummary(report),
  };
}

/** A table worth a line in an alert: confirmed drift, rows still in flight, or an error. */
export function isNotable(t: TableReport): boolean {
  return t.error !== undefined || confirmedDrift(t) > 0 || t.inFlight > 0;
}

/** Tables named one by one in the summary; the rest are counted. */
const SUMMARY_TABLES = 20;

/**
 * One line for a human: how many tables drifted, and per notable table its counts, repair and
 * error, e.g. `reconcile nightly: drift in 1 of 3 tables; public.orders: missing 3, extra 1,
 * different 2 (repaired: inserted 3, updated 2, deleted 1, skipped 0)`.
 */
export function alertSummary(report: ReconcileReport): string {
  const drifted = report.tables.filter((t) => !t.error && confirmedDrift(t) > 0).length;
  const failed = report.tables.filter((t) => t.error !== undefined).length;
  const total = report.tables.length;
  const head = [`drift in ${drifted} of ${total} table${total === 1 ? '' : 's'}`];
  if (failed > 0) head.push(`${failed} failed`);
  const notable = report.tables.filter(isNotable);
  const parts = notable.slice(0, SUMMARY_TABLES).map(describeTable);
  if (notable.length > SUMMARY_TABLES) parts.push(`and ${notable.length - SUMMARY_TABLES} more`);
  return [`reconcile ${report.name}: ${head.join(', ')}`, ...parts].join('; ');
}

/** `public.orders: missing 3, extra 1, different 2, in flight 1 (repair refused: …)` */
export function describeTable(t: TableReport): string {
  if (t.error !== undefined) return `${t.table}: failed: ${t.error}`;
  const repair = t.repair.status === 'done' || t.repair.status === 'refused' ? ` (${describeRepair(t.repair)})` : '';
  return `${t.table}: ${countsText(t)}${repair}`;
}

export function countsText(t: TableReport): string {
  return `missing ${t.missing}, extra ${t.extra}, different ${t.different}, in flight ${t.inFlight}`;
}

export function describeRepair(r: RepairOutcome): string {
  switch (r.status) {
    case 'not-requested':
      return 'repair not requested';
    case 'nothing-to-do':
      return 'nothing to repair';
    case 'done':
      return `repaired: inserted ${r.inserted}, updated ${r.updated}, deleted ${r.deleted}, skipped ${r.skipped}`;
    case 'refused':
      return `repair refused: ${r.reason}`;
  }
}

/** topKeys as a count: a whole number ≥ 0. */
export function keyCount(topKeys: number): number {
  return Number.isFinite(topKeys) ? Math.max(0, Math.floor(topKeys)) : DEFAULT_TOP_KEYS;
}
