/**
 * Carries out a load (plan.ts) in a transaction: the statements come from the dialect, the
 * transaction, COPY streams and prepared statements from the driver. Each change is encoded once,
 * as its load is sent; one whose value does not fit its column is reported to `onBad` (the sink
 * dead-letters it) and left out, before any of its rows or version rows is written.
 */
import { ValueError } from '../core/portable-values.js';
import type { TargetTx } from './drivers/types.js';
import type { Change, MysqlLoadSql, PgLoadSql } from './dialects/types.js';
import type { SinkDialect } from './dialects/types.js';
import { chunkLadder } from './dialects/mysql.js';
import { rowChunks, stageChunks, versionChunks, type RowLines } from './dialects/pg-load.js';
import type { NewKeysPolicy } from './new-keys.js';
import type { ApplyShape, Load } from './plan.js';

export type OnBadValue = (change: Change, err: ValueError) => void;

const NEW_KEYS_SAVEPOINT = 'sluice_new_keys';

/** Runs the loads of one transaction; returns how many changes each applied (the version guard let through). */
export class LoadExecutor {
  /** Stages loaded in this transaction: emptied before they are loaded again. */
  readonly #staged = new Set<string>();

  constructor(
    private readonly tx: TargetTx,
    private readonly dialect: SinkDialect,
    private readonly newKeys: NewKeysPolicy,
  ) {}

  async run(load: Load, onBad: OnBadValue): Promise<number> {
    const sql = this.dialect.load;
    if (load.kind === 'rows') {
      if (sql.family !== 'mysql') throw new Error(`${this.dialect.dialect} has no rows load`);
      return this.rows(sql, load.changes, onBad);
    }
    if (sql.family !== 'pg') throw new Error(`${this.dialect.dialect} has no ${load.kind} load`);
    switch (load.kind) {
      case 'inline':
        return this.inline(sql, load.changes, load.shape, onBad);
      case 'stage':
        return this.stage(sql, load.changes, load.shape, rowLines(load.changes, sql.copyRow, onBad));
      case 'newKeys':
        return this.newKeysLoad(sql, load.changes, rowLines(load.changes, sql.copyRow, onBad));
    }
  }

  private async inline(sql: PgLoadSql, changes: readonly Change[], shape: ApplyShape, onBad: OnBadValue): Promise<number> {
    const rows: string[] = [];
    for (const c of changes) {
      const row = encoded(c, sql.inlineRow, onBad);
      if (row !== null) rows.push(row);
    }
    if (rows.length === 0) return 0;
    const t = sql.table(changes[0]!.binding);
    const r = await this.tx.query<{ applied: number }>(t.inline[shape], [`[${rows.join(',')}]`], true);
    return Number(r[0]?.applied ?? 0);
  }

  private async stage(sql: PgLoadSql, changes: readonly Change[], shape: ApplyShape, rows: RowLines): Promise<number> {
    const t = sql.table(changes[0]!.binding);
    await this.tx.once(t.stage, t.createStage);
    if (this.#staged.has(t.stage)) await this.tx.query(t.truncateStage);
    this.#staged.add(t.stage);
    await this.tx.copyFrom(t.stageColumns, stageChunks(changes, rows));
    const r = await this.tx.query<{ applied: number }>(t.apply[shape]);
    return Number(r[0]?.applied ?? 0);
  }

  /**
   * Plain writes, undone at the first key that exists: every change wins, so no guard is
   * evaluated and no row is joined back to it. Whatever fails the attempt (a unique violation,
   * that is a key that exists; a bad value; something COPY alone refuses, such as a target under
   * row-level security), undoing it leaves the stage and the guarded statement to apply the
   * changes, or to fail them as they would have anyway. Should the undo itself fail, the
   * connection is gone: that error is the one to report.
   */
  private async newKeysLoad(sql: PgLoadSql, changes: readonly Change[], rows: RowLines): Promise<number> {
    const binding = changes[0]!.binding;
    const t = sql.table(binding);
    await this.tx.savepoint(NEW_KEYS_SAVEPOINT);
    try {
      await this.tx.copyFrom(t.versionColumns, versionChunks(changes, rows));
      await this.tx.copyFrom(t.targetColumns, rowChunks(changes, rows));
      await this.tx.release(NEW_KEYS_SAVEPOINT);
      this.newKeys.record(binding, true);
      let n = 0;
      for (let i = 0; i < changes.length; i++) if (rows(i) !== null) n++;
      return n;
    } catch {
      this.newKeys.record(binding, false);
    }
    await this.tx.rollbackTo(NEW_KEYS_SAVEPOINT);
    return this.stage(sql, changes, 'upserts', rows);
  }

  /**
   * MariaDB: per chunk of keys, the guard's two statements (dialects/mysql.ts), then multi-row
   * upserts and deletes of the keys that won. Every change is encoded before the first guard
   * statement: a version must not move for a row that is then left out.
   */
  private async rows(sql: MysqlLoadSql, all: readonly Change[], onBad: OnBadValue): Promise<number> {
    const changes: Change[] = [];
    const params = new Map<Change, unknown[]>();
    for (const c of all) {
      try {
        params.set(c, sql.params(c));
        changes.push(c);
      } catch (err) {
        if (!(err instanceof ValueError)) throw err;
        onBad(c, err);
      }
    }
    if (changes.length === 0) return 0;
    const binding = changes[0]!.binding;
    const s = sql.table(binding);
    const per = sql.rowsPerStatement;
    const won = new Set<string>();
    let at = 0;
    for (const size of chunkLadder(changes.length, per)) {
      const chunk = changes.slice(at, (at += size));
      const guard: unknown[] = [];
      for (const c of chunk) guard.push(binding.targetName, c.keyText, c.version, c.deleted ? 1 : 0);
      await this.tx.query(s.guard(size), guard, true);
      const rows = await this.tx.query<{ key_text: string }>(
        s.won(size, !this.tx.readCommitted),
        [binding.targetName, ...chunk.map((c) => c.keyText)],
        true,
      );
      for (const r of rows) won.add(String(r.key_text));
    }
    const upserts: Change[] = [];
    const deletes: Change[] = [];
    for (const c of changes) if (won.has(c.keyText)) (c.deleted ? deletes : upserts).push(c);
    const rowsPer = Math.max(1, Math.min(per, Math.floor(60000 / binding.columns.length)));
    for (const [list, text] of [
      [upserts, s.upsert],
      [deletes, s.delete],
    ] as const) {
      at = 0;
      for (const size of chunkLadder(list.length, rowsPer)) {
        const chunk = list.slice(at, (at += size));
        await this.tx.query(
          text(size),
          chunk.flatMap((c) => params.get(c)!),
          true,
        );
      }
    }
    return upserts.length + deletes.length;
  }
}

function encoded(change: Change, encode: (c: Change) => string, onBad: OnBadValue): string | null {
  try {
    return encode(change);
  } catch (err) {
    if (!(err instanceof ValueError)) throw err;
    onBad(change, err);
    return null;
  }
}

/** Each change's row line, encoded when first asked for and kept (pg-load.ts RowLines). */
function rowLines(changes: readonly Change[], encode: (c: Change) => string, onBad: OnBadValue): RowLines {
  const lines = new Array<string | null | undefined>(changes.length);
  return (i) => {
    let line = lines[i];
    if (line === undefined) lines[i] = line = encoded(changes[i]!, encode, onBad);
    return line;
  };
}

/** Whether the change's values fit their columns (reported to `onBad` when not), checked before a load that must not meet one. */
export function fits(dialect: SinkDialect, change: Change, onBad: OnBadValue): boolean {
  const sql = dialect.load;
  return encoded(change, (c) => (sql.family === 'pg' ? sql.copyRow(c) : (sql.params(c), '')), onBad) !== null;
}
