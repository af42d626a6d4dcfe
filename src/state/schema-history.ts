/**
 * The history of source tables' shapes (`sluice_schema_history`, migration 0004): one entry per
 * change a log source reported, written when the pipeline rebinds the table, before any change of
 * the new shape is applied. What an operator reads to answer "when did this column appear, and
 * from which source position on do its values travel".
 */
import type { ColumnType } from '../core/table-schema.js';
import type { SqlStore } from './sql-store.js';
import { storeError } from './sql-store.js';

export interface SchemaChangeEntry {
  readonly table: string;
  /** The source position of the first batch with the new shape (the connector's text form). */
  readonly position: string;
  readonly added: ReadonlyArray<{ name: string; type: ColumnType }>;
  readonly dropped: readonly string[];
  /** Columns whose type changed (ALTER COLUMN … TYPE), with their portable types before and after. */
  readonly retyped?: ReadonlyArray<{ name: string; from: ColumnType; to: ColumnType }>;
  /** Whether the target gained the added columns (target.evolve). */
  readonly targetEvolved: boolean;
  /** The DDL command itself, when the source writes DDL into its log (source.ddlMessages); the shape change it causes is its own entry. */
  readonly ddl?: { readonly tag: string; readonly statement: string };
  readonly recordedAt?: string;
}

export class SchemaHistory {
  constructor(
    private readonly store: SqlStore,
    private readonly pipeline: string,
  ) {}

  async record(e: SchemaChangeEntry): Promise<void> {
    const { table, position, recordedAt: _at, ...change } = e;
    try {
      await this.store.query(`INSERT INTO sluice_schema_history (pipeline, table_name, position, change_json) VALUES ($1, $2, $3, $4)`, [
        this.pipeline,
        table,
        position,
        JSON.stringify(change),
      ]);
    } catch (err) {
      throw storeError(`Could not record the schema change of ${table}: ${(err as Error).message}`, err);
    }
  }

  /** Oldest first; one table's entries when `table` is given. */
  async list(table?: string): Promise<SchemaChangeEntry[]> {
    const rows = await this.store.query<{ table_name: string; position: string; recorded_at: Date | string; change_json: string }>(
      `SELECT table_name, position, recorded_at, change_json FROM sluice_schema_history
       WHERE pipeline = $1 AND ($2::text IS NULL OR table_name = $2) ORDER BY id`,
      [this.pipeline, table ?? null],
    );
    return rows.map((r) => ({
      table: r.table_name,
      position: r.position,
      recordedAt: new Date(r.recorded_at).toISOString(),
      ...(JSON.parse(r.change_json) as Omit<SchemaChangeEntry, 'table' | 'position' | 'recordedAt'>),
    }));
  }
}
