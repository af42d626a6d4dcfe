/**
 * Reads one table's rows in primary-key order, a chunk per short read-only transaction, starting
 * after a given key: the unit a snapshot makes durable and resumes from. Rows are read from
 * whatever is committed when each chunk runs; the stream that follows from the slot's position
 * carries every later change with a greater version, so the version guard on the target settles
 * each row at its newest state whatever the interleaving (docs/guarantees.md: snapshot-consistent).
 */
import type pg from 'pg';
import type { Row, TableSchema } from '../../core/table-schema.js';
import { pgTypes, qualifiedPg, quotePg, toPgText } from '../../metadata/index.js';
import { PG_READ_SETTINGS } from '../../metadata/pg-catalog.js';
import type { KeyText } from '../snapshot/progress.js';

export function keyTextOf(table: TableSchema, row: Row): KeyText {
  return Object.fromEntries(table.primaryKey.map((k) => [k, toPgText(table.columns.find((c) => c.name === k)!.type, row[k] ?? null)]));
}

export async function readChunk(pool: pg.Pool, table: TableSchema, after: KeyText | undefined, limit: number): Promise<Row[]> {
  const cols = table.columns.map((c) => quotePg(c.name)).join(', ');
  const pk = table.primaryKey.map(quotePg).join(', ');
  const params = after ? table.primaryKey.map((k) => after[k] ?? null) : [];
  const where = after ? ` WHERE (${pk}) > (${params.map((_, i) => `$${i + 1}`).join(', ')})` : '';
  const client = await pool.connect();
  try {
    await client.query('BEGIN READ ONLY');
    for (const s of PG_READ_SETTINGS) await client.query(s);
    const res = await client.query({
      text: `SELECT ${cols} FROM ${qualifiedPg(table)}${where} ORDER BY ${pk} LIMIT ${Math.trunc(limit)}`,
      values: params,
      types: pgTypes,
    });
    await client.query('COMMIT');
    return res.rows as Row[];
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** The planner's row estimate, for progress (exact counts cost a full scan). */
export async function estimateRows(pool: pg.Pool, table: TableSchema): Promise<number> {
  const r = await pool.query(`SELECT GREATEST(reltuples, 0)::bigint::text AS n FROM pg_class WHERE oid = $1::regclass`, [
    qualifiedPg(table),
  ]);
  return Number((r.rows[0] as { n: string } | undefined)?.n ?? 0);
}
