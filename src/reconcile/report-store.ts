/**
 * Reconcile reports kept in the state store (`sluice_reconcile_reports`, migration
 * 0002_reconcile_reports): one row per run, the report as JSON text, with name, times and the
 * confirmed-drift flag as columns. A report is written once and never updated; ids grow with each
 * save, so "newest" is the highest id. Store failures surface as SLUICE_ERR_STORE.
 */
import { storeError, type SqlStore } from '../state/index.js';
import { hasDrift, type ReconcileReport } from './report.js';

const DEFAULT_LATEST = 10;

interface ReportRow {
  /** bigint: a string from pg, a number or bigint from PGlite. */
  id: string | number | bigint;
  report_json: string;
}

export class ReportStore {
  constructor(private readonly store: SqlStore) {}

  /** Stores `report` (its `id`, if any, is ignored) and returns the id it was given. */
  async save(report: ReconcileReport): Promise<number> {
    const { id: _ignored, ...rest } = report;
    let rows: Array<Pick<ReportRow, 'id'>>;
    try {
      rows = await this.store.query<Pick<ReportRow, 'id'>>(
        `INSERT INTO sluice_reconcile_reports (name, started_at, finished_at, drift, report_json)
         VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [report.name, report.startedAt, report.finishedAt, hasDrift(report), JSON.stringify(rest)],
      );
    } catch (err) {
      throw storeError(`Could not save the reconcile report of "${report.name}": ${(err as Error).message}`, err);
    }
    return Number(rows[0]!.id);
  }

  /** The last `limit` reports of reconcile `name` (default 10), newest first, each with its id. */
  async latest(name: string, limit: number = DEFAULT_LATEST): Promise<ReconcileReport[]> {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be a whole number ≥ 1, not ${limit}`);
    let rows: ReportRow[];
    try {
      rows = await this.store.query<ReportRow>(
        'SELECT id, report_json FROM sluice_reconcile_reports WHERE name = $1 ORDER BY id DESC LIMIT $2',
        [name, limit],
      );
    } catch (err) {
      throw storeError(`Could not read the reconcile reports of "${name}": ${(err as Error).message}`, err);
    }
    return rows.map(fromRow);
  }

  /** The report with this id, or undefined when there is none. */
  async get(id: number): Promise<ReconcileReport | undefined> {
    if (!Number.isSafeInteger(id) || id < 1) return undefined;
    let rows: ReportRow[];
    try {
      rows = await this.store.query<ReportRow>('SELECT id, report_json FROM sluice_reconcile_reports WHERE id = $1', [id]);
    } catch (err) {
      throw storeError(`Could not read reconcile report ${id}: ${(err as Error).message}`, err);
    }
    return rows[0] ? fromRow(rows[0]) : undefined;
  }
}

function fromRow(row: ReportRow): ReconcileReport {
  return { ...(JSON.parse(row.report_json) as Omit<ReconcileReport, 'id'>), id: Number(row.id) };
}
