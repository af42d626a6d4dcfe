/**
 * The outbox relay, a Source: reads outbox rows in seq order, turns them into ChangeEvents
 * (version = seq), and deletes exactly the rows of a batch once the pipeline acknowledges it
 * (broker-acked or applied), never on a timer (docs/guarantees.md: ack-after-durable). No
 * high-water mark (docs/guarantees.md: no-high-water-mark): a row
 * with a lower seq that commits late is simply read by a later poll. One batch is in flight at a
 * time, so a row is never read twice by one relay; after a crash, unacknowledged rows are read
 * again and the version guard on the target makes that harmless.
 */
import type { ChangeBatch, Source } from '../../core/contracts.js';
import type { ChangeEvent } from '../../core/change-event.js';
import type { TableSchema } from '../../core/table-schema.js';
import { qualifiedName } from '../../core/table-schema.js';
import { SluiceError } from '../../core/errors.js';
import { coerceRow, keyOf, type FieldProblem } from '../row-values.js';
import { outboxDdl, quoteIdent, type OutboxDialect } from './ddl.js';

export interface OutboxDb {
  readonly dialect: OutboxDialect;
  query(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
}

export interface OutboxSourceOptions {
  name: string;
  db: OutboxDb;
  tables: readonly TableSchema[];
  outboxTable?: string;
  batchSize?: number;
  pollIntervalMs?: number;
}

interface OutboxRow {
  seq: string | number | bigint;
  table_name: string;
  op: string;
  key_json: string;
  row_json: string | null;
  context: string | null;
  created: string;
}

export class OutboxSource implements Source {
  readonly name: string;
  private readonly db: OutboxDb;
  private readonly table: string;
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly byName = new Map<string, TableSchema>();
  private pending: { position: string; seqs: string[] } | undefined;
  private ackWaiter: (() => void) | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  /** Called after every acknowledged batch (publishedThrough's waiters). */
  private readonly acked = new Set<() => void>();
  /** Rows still in the outbox at the last poll: how far the relay is behind. */
  backlog = 0;

  constructor(private readonly opts: OutboxSourceOptions) {
    this.name = opts.name;
    this.db = opts.db;
    this.table = quoteIdent(opts.db.dialect, opts.outboxTable ?? 'sluice_outbox');
    this.batchSize = opts.batchSize ?? 2000;
    this.pollMs = opts.pollIntervalMs ?? 100;
    for (const t of opts.tables) {
      this.byName.set(qualifiedName(t), t);
      if (!this.byName.has(t.name)) this.byName.set(t.name, t);
    }
  }

  async tables(): Promise<TableSchema[]> {
    return [...this.opts.tables];
  }

  /** Creates the outbox table if it does not exist. */
  async ensureOutbox(): Promise<void> {
    await this.db.query(outboxDdl(this.db.dialect, this.opts.outboxTable ?? 'sluice_outbox'));
  }

  async *start(): AsyncIterable<ChangeBatch> {
    while (!this.stopped) {
      if (this.pending) await new Promise<void>((r) => (this.ackWaiter = r));
      if (this.stopped) break;
      const rows = (await this.db.query(this.selectSql(), [this.batchSize])) as unknown as OutboxRow[];
      if (rows.length === 0) {
        this.backlog = 0;
        await new Promise<void>((r) => {
          const t = setTimeout(r, this.pollMs);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = undefined;
        continue;
      }
      this.backlog = rows.length;
      const events = rows.map((r) => this.decode(r));
      const position = String(rows[rows.length - 1]!.seq);
      this.pending = { position, seqs: rows.map((r) => String(r.seq)) };
      yield { events, position };
    }
  }

  /** Deletes the acknowledged batch's rows (exactly those, never "everything below"). */
  async acknowledge(position: string): Promise<void> {
    const p = this.pending;
    if (!p || p.position !== position) {
      throw new SluiceError(
        'SLUICE_ERR_STORE',
        `outbox ${this.name}: acknowledged position ${position} is not the batch in flight (${p?.position ?? 'none'})`,
      );
    }
    const mysql = this.db.dialect === 'mysql';
    const sql = mysql
      ? `DELETE FROM ${this.table} WHERE seq IN (${p.seqs.map(() => '?').join(',')})`
      : `DELETE FROM ${this.table} WHERE seq = ANY($1::bigint[])`;
    await this.db.query(sql, mysql ? p.seqs : [p.seqs]);
    this.pending = undefined;
    const w = this.ackWaiter;
    this.ackWaiter = undefined;
    w?.();
    for (const f of [...this.acked]) f();
  }

  /**
   * Resolves true once no outbox row at or below `seq` is left, i.e. every one of them was
   * published and acknowledged (the relay deletes a row only then); false after `timeoutMs` or on
   * stop. Wakes an idle relay so it does not wait out its poll interval first.
   */
  async publishedThrough(seq: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const mysql = this.db.dialect === 'mysql';
    const sql = `SELECT seq FROM ${this.table} WHERE seq <= ${mysql ? '?' : '$1::bigint'} LIMIT 1`;
    for (;;) {
      // Registered before the check, so an acknowledgement between the two is not missed.
      let signal!: () => void;
      const next = new Promise<void>((r) => (signal = r));
      this.acked.add(signal);
      try {
        this.wake?.();
        if ((await this.db.query(sql, [seq])).length === 0) return true;
        const left = deadline - Date.now();
        if (left <= 0 || this.stopped) return false;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([next, new Promise<void>((r) => (timer = setTimeout(r, left)))]);
        clearTimeout(timer);
      } finally {
        this.acked.delete(signal);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    for (const f of [...this.acked]) f();
    const w = this.ackWaiter;
    this.ackWaiter = undefined;
    w?.();
  }

  private selectSql(): string {
    if (this.db.dialect === 'mysql') {
      return `SELECT seq, table_name, op, key_json, row_json, context, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS created FROM ${this.table} ORDER BY seq LIMIT ?`;
    }
    // ORDER BY the column, not the text alias: by text, seq 10 would come before seq 9.
    return `SELECT o.seq::text AS seq, o.table_name, o.op, o.key_json, o.row_json, o.context, to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created FROM ${this.table} o ORDER BY o.seq LIMIT $1`;
  }

  private decode(r: OutboxRow): ChangeEvent {
    const table = this.byName.get(r.table_name);
    const where = `outbox row seq ${String(r.seq)}`;
    if (!table) {
      throw new SluiceError(
        'SLUICE_ERR_CONFIG',
        `${where}: table "${r.table_name}" is not among source.tables (${[...new Set(this.opts.tables.map(qualifiedName))].join(', ')})`,
        { context: { table: r.table_name, configPath: 'source.tables' } },
      );
    }
    const problems: FieldProblem[] = [];
    const op = r.op.trim();
    let key;
    let after;
    if (op === 'd') key = coerceRow(table, JSON.parse(r.key_json), 'key', problems, table.primaryKey);
    else if (op === 'c' || op === 'u') {
      after = coerceRow(table, JSON.parse(r.row_json ?? 'null'), 'row', problems);
      if (after) key = keyOf(table, after);
    } else problems.push({ field: 'op', message: `must be c, u or d, got "${op}"` });
    if (problems.length || !key) {
      throw new SluiceError(
        'SLUICE_ERR_CODEC_VALUE',
        `${where} for ${r.table_name}: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`,
        { context: { table: r.table_name, field: problems[0]?.field } },
      );
    }
    const seq = String(r.seq);
    return {
      table: table.schema ? { schema: table.schema, name: table.name } : { name: table.name },
      op: op as ChangeEvent['op'],
      key,
      ...(after ? { after } : {}),
      source: { connector: this.name, position: seq, commitTs: r.created, ...(r.context !== null ? { context: r.context } : {}) },
      version: BigInt(seq),
    };
  }
}
