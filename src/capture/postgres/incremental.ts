/**
 * Incremental snapshots: a table (or the rows a filter selects) re-read in key-ordered chunks while
 * the log keeps streaming, with the watermark method of DBLog adapted so that it needs no write
 * on the source.
 *
 * For each chunk:
 *   1. a window is opened for the table: from now on, every streamed change of the table is noted
 *      with its key and its transaction's xid;
 *   2. the chunk is read in one REPEATABLE READ transaction that also reads its snapshot
 *      (pg_current_snapshot) and, after the rows, the current end of WAL (the high watermark H);
 *   3. every key changed by a transaction the chunk's snapshot does not see is dropped from the
 *      chunk: the stream carries that change itself, with its own, newer version;
 *   4. once the stream has passed H (every transaction the snapshot saw has then been streamed),
 *      the chunk's remaining rows are emitted, versioned just below H: above every change they
 *      reflect, below every change they do not.
 * So a chunk row never overwrites a newer streamed change (docs/guarantees.md: incremental-snapshots).
 */
import type pg from 'pg';
import type { ChangeEvent } from '../../core/change-event.js';
import type { Row, TableSchema } from '../../core/table-schema.js';
import { pgTypes, qualifiedPg, quotePg } from '../../metadata/index.js';
import { PG_READ_SETTINGS } from '../../metadata/pg-catalog.js';
import type { KeyText } from '../snapshot/progress.js';
import { parseLsn, snapshotVersion, type Lsn } from './lsn.js';
import { keyTextOf } from './snapshot.js';

/** The visibility rule of a pg_current_snapshot() text ("xmin:xmax:xip,…"), on 32-bit xids as pgoutput sends them. */
export function snapshotVisibility(text: string): (xid: number) => boolean {
  const [, xmaxText, xipText] = text.split(':');
  const xmax = Number(BigInt(xmaxText!) & 0xffffffffn);
  const xip = new Set(
    (xipText ?? '')
      .split(',')
      .filter(Boolean)
      .map((x) => Number(BigInt(x) & 0xffffffffn)),
  );
  // xid precedes xmax in PostgreSQL's modulo-2^32 order: committed before the snapshot unless in progress.
  return (xid) => ((xid - xmax) | 0) < 0 && !xip.has(xid);
}

export interface ChunkRead {
  rows: Row[];
  visible: (xid: number) => boolean;
  high: Lsn;
}

/** One chunk after `after`, with the snapshot it was read in and the end of WAL after it. */
export async function readWatermarkedChunk(
  pool: pg.Pool,
  table: TableSchema,
  where: string | undefined,
  after: KeyText | undefined,
  limit: number,
): Promise<ChunkRead> {
  const cols = table.columns.map((c) => quotePg(c.name)).join(', ');
  const pk = table.primaryKey.map(quotePg).join(', ');
  const params = after ? table.primaryKey.map((k) => after[k] ?? null) : [];
  const conds = [...(where ? [`(${where})`] : []), ...(after ? [`(${pk}) > (${params.map((_, i) => `$${i + 1}`).join(', ')})`] : [])];
  const client = await pool.connect();
  try {
    // READ ONLY: a filter given on the command line can read, never write.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    for (const s of PG_READ_SETTINGS) await client.query(s);
    const snap = (await client.query(`SELECT pg_current_snapshot()::text AS s`)).rows[0].s as string;
    const res = await client.query({
      text: `SELECT ${cols} FROM ${qualifiedPg(table)}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''} ORDER BY ${pk} LIMIT ${Math.trunc(limit)}`,
      values: params,
      types: pgTypes,
    });
    const high = parseLsn((await client.query(`SELECT pg_current_wal_lsn()::text AS l`)).rows[0].l as string);
    await client.query('COMMIT');
    return { rows: res.rows as Row[], visible: snapshotVisibility(snap), high };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** A chunk between its read and its emission. */
export class Window {
  private readonly seen: Array<{ xid: number; key: string }> = [];
  private rows: Map<string, Row> | undefined;
  private visible: ((xid: number) => boolean) | undefined;
  high: Lsn | undefined;

  constructor(readonly table: TableSchema) {}

  /** A streamed change of the table (while the chunk is read, noted; after, applied at once). */
  noteChange(xid: number, key: Row): void {
    const k = JSON.stringify(keyTextOf(this.table, key));
    if (!this.rows) this.seen.push({ xid, key: k });
    else if (!this.visible!(xid)) this.rows.delete(k);
  }

  /** The chunk arrived: keys changed meanwhile by transactions its snapshot does not see are dropped. */
  fill(read: ChunkRead): void {
    this.rows = new Map(read.rows.map((r) => [JSON.stringify(keyTextOf(this.table, r)), r]));
    this.visible = read.visible;
    this.high = read.high;
    for (const s of this.seen) if (!read.visible(s.xid)) this.rows.delete(s.key);
    this.seen.length = 0;
  }

  get ready(): boolean {
    return this.rows !== undefined;
  }

  /** The rows left, as snapshot reads versioned just below the high watermark. */
  events(connector: string, ref: ChangeEvent['table']): ChangeEvent[] {
    const version = snapshotVersion(this.high!);
    const source = { connector, position: `incremental:${this.high!.toString(16)}` };
    return [...this.rows!.values()].map((r) => ({
      table: ref,
      op: 'r' as const,
      key: Object.fromEntries(this.table.primaryKey.map((k) => [k, r[k] ?? null])),
      after: r,
      version,
      source,
    }));
  }
}
