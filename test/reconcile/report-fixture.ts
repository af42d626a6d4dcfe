// Reconcile reports built by hand, for the alert and report-store tests.
import type { ReconcileReport, TableReport } from '../../src/reconcile/report.js';

export function tableReport(over: Partial<TableReport> = {}): TableReport {
  return {
    table: 'public.orders',
    target: 'public.orders',
    sourceRows: 1000,
    targetRows: 1000,
    ranges: 16,
    rangesDiffering: 0,
    rowsCompared: 0,
    missing: 0,
    extra: 0,
    different: 0,
    inFlight: 0,
    keys: { missing: [], extra: [], different: [], inFlight: [] },
    keysLeftOut: { missing: 0, extra: 0, different: 0, inFlight: 0 },
    repair: { status: 'not-requested' },
    durationMs: 1200,
    ...over,
  };
}

export function reconcileReport(tables: TableReport[], over: Partial<ReconcileReport> = {}): ReconcileReport {
  return {
    name: 'nightly',
    startedAt: '2024-05-01T02:00:00.000Z',
    finishedAt: '2024-05-01T02:00:12.345Z',
    durationMs: 12_345,
    repairRequested: false,
    keyLimit: 20,
    tables,
    stats: { queries: 40, bytes: 123_456, rechecks: 1, waitMs: 250 },
    ...over,
  };
}

/** public.orders drifted (3 missing, 1 extra, 2 different) and was repaired; public.items is in sync. */
export function driftReport(over: Partial<ReconcileReport> = {}): ReconcileReport {
  return reconcileReport(
    [
      tableReport({
        sourceRows: 1003,
        targetRows: 1001,
        rangesDiffering: 2,
        rowsCompared: 128,
        missing: 3,
        extra: 1,
        different: 2,
        inFlight: 1,
        keys: { missing: ['101', '102', '103'], extra: ['9001'], different: ['7', 'a<b&c>'], inFlight: ['55'] },
        repair: { status: 'done', inserted: 3, updated: 2, deleted: 1, skipped: 0 },
      }),
      tableReport({ table: 'public.items', target: 'shop.items' }),
    ],
    { repairRequested: true, ...over },
  );
}
