/**
 * The SDK helper that records a change in the outbox inside the caller's own transaction, so the
 * change is published if and only if the business transaction commits.
 *
 * Order per row (docs/guarantees.md: outbox-after-business-row): call `write` AFTER the statement
 * that changes the business row, in the
 * same transaction. The row lock taken by that statement serialises two transactions that change
 * the same row, so the later one's outbox row gets the later seq, and seq is the change's version.
 */
import { outboxDdl, quoteIdent, type OutboxDialect } from './ddl.js';
import { rowToJson } from '../row-values.js';

export interface OutboxChange {
  table: string;
  op: 'c' | 'u' | 'd';
  /** Primary-key columns; for c/u it may be omitted when `row` holds them. */
  key?: Record<string, unknown>;
  /** The full row image after the change (c/u). */
  row?: Record<string, unknown>;
  /** Free text, e.g. the query or use case that made the change. */
  context?: string;
}

/** Anything with a pg-style `query(text, params)` (pg Client/PoolClient, PGlite transaction) or mysql2's `execute`. */
export type OutboxTx =
  { query(text: string, params?: unknown[]): Promise<unknown> } | { execute(sql: string, params?: unknown[]): Promise<unknown> };

export interface OutboxWriter {
  /** CREATE TABLE IF NOT EXISTS for the outbox; run once at deploy time or start-up. */
  readonly ddl: string;
  write(tx: OutboxTx, changes: OutboxChange | readonly OutboxChange[]): Promise<void>;
}

export function createOutboxWriter(opts: { dialect: OutboxDialect; table?: string }): OutboxWriter {
  const table = opts.table ?? 'sluice_outbox';
  const t = quoteIdent(opts.dialect, table);
  const mysql = opts.dialect === 'mysql';
  return {
    ddl: outboxDdl(opts.dialect, table),
    async write(tx, changes) {
      const list = Array.isArray(changes) ? changes : [changes as OutboxChange];
      if (list.length === 0) return;
      const params: unknown[] = [];
      const tuples = list.map((c) => {
        if (c.op !== 'c' && c.op !== 'u' && c.op !== 'd')
          throw new TypeError(`outbox change for ${c.table}: op must be c, u or d, got ${String(c.op)}`);
        if (c.op === 'd' ? !c.key : !c.row)
          throw new TypeError(`outbox change for ${c.table}: ${c.op === 'd' ? 'a delete needs key' : 'an insert or update needs row'}`);
        params.push(c.table, c.op, rowToJson(c.key ?? {}), c.row ? rowToJson(c.row) : null, c.context ?? null);
        const n = params.length;
        return mysql ? '(?, ?, ?, ?, ?)' : `($${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
      });
      // One statement: the rows of one call take consecutive seqs in call order.
      const sql = `INSERT INTO ${t} (table_name, op, key_json, row_json, context) VALUES ${tuples.join(', ')}`;
      if ('execute' in tx && mysql) await tx.execute(sql, params);
      else if ('query' in tx) await tx.query(sql, params);
      else throw new TypeError('outbox write: the transaction client has neither query() nor execute()');
    },
  };
}
