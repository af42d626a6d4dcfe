/**
 * Snapshot progress kept in the state store, per pipeline and table: the last key of the last
 * chunk that is durable downstream, so a restarted snapshot continues after it instead of from
 * the first row. Written only from the source's acknowledge (docs/guarantees.md: snapshot-resumes).
 */
import type { Row } from '../../core/table-schema.js';
import type { SqlStore } from '../../state/index.js';

export interface SnapshotProgress {
  /** The source position the snapshot's rows are versioned below (text, the connector's form). */
  readonly from: string;
  /** The key of the last row copied and durable; absent before the first chunk. */
  readonly after?: Record<string, string | null>;
  readonly rows: number;
  readonly done: boolean;
  /** Incremental snapshots: the filter of the rows to re-read (SQL, run read-only), when one was given. */
  readonly where?: string;
  /** Incremental snapshots: ended by a cancel before its last chunk. */
  readonly cancelled?: boolean;
}

export class ProgressStore {
  constructor(
    private readonly store: SqlStore,
    private readonly pipeline: string,
  ) {}

  async get(item: string): Promise<SnapshotProgress | undefined> {
    return this.read<SnapshotProgress>(item);
  }

  async put(item: string, value: SnapshotProgress): Promise<void> {
    await this.write(item, value);
  }

  /** Every item whose name starts with `prefix`, oldest request first. */
  async list(prefix: string): Promise<Array<{ item: string; value: SnapshotProgress }>> {
    return this.readAll<SnapshotProgress>(prefix);
  }

  /** A control (pause, cancel) kept beside a progress item, never written by the source's progress. */
  async control<C extends string>(item: string): Promise<C | undefined> {
    return (await this.read<{ control: C }>(item))?.control;
  }

  async controls<C extends string>(prefix: string): Promise<Array<{ item: string; control: C }>> {
    return (await this.readAll<{ control: C }>(prefix)).map((r) => ({ item: r.item, control: r.value.control }));
  }

  async setControl(item: string, control: string): Promise<void> {
    await this.write(item, { control });
  }

  async clearControl(item: string): Promise<void> {
    await this.store.query('DELETE FROM sluice_source_progress WHERE pipeline = $1 AND item = $2', [this.pipeline, item]);
  }

  async clear(): Promise<void> {
    await this.store.query('DELETE FROM sluice_source_progress WHERE pipeline = $1', [this.pipeline]);
  }

  private async read<T>(item: string): Promise<T | undefined> {
    const rows = await this.store.query<{ value_json: string }>(
      'SELECT value_json FROM sluice_source_progress WHERE pipeline = $1 AND item = $2',
      [this.pipeline, item],
    );
    return rows[0] ? (JSON.parse(rows[0].value_json) as T) : undefined;
  }

  private async readAll<T>(prefix: string): Promise<Array<{ item: string; value: T }>> {
    const rows = await this.store.query<{ item: string; value_json: string }>(
      `SELECT item, value_json FROM sluice_source_progress WHERE pipeline = $1 AND starts_with(item, $2) ORDER BY updated_at`,
      [this.pipeline, prefix],
    );
    return rows.map((r) => ({ item: r.item, value: JSON.parse(r.value_json) as T }));
  }

  private async write(item: string, value: unknown): Promise<void> {
    await this.store.query(
      `INSERT INTO sluice_source_progress (pipeline, item, value_json) VALUES ($1, $2, $3)
       ON CONFLICT (pipeline, item) DO UPDATE SET value_json = EXCLUDED.value_json, updated_at = now()`,
      [this.pipeline, item, JSON.stringify(value)],
    );
  }
}

/** Key values as their PostgreSQL text, for storing and binding back (the key's portable values may be bigint or Buffer). */
export type KeyText = Record<string, string | null>;

export function rowKeyText(pk: readonly string[], row: Row, toText: (col: string, v: Row[string]) => string | null): KeyText {
  return Object.fromEntries(pk.map((k) => [k, toText(k, row[k] ?? null)]));
}
