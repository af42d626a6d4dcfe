/**
 * PostgreSQL through node-postgres: introspection (pg-catalog.ts), reading rows back in the
 * portable representation, and the type parsers that make that lossless.
 *
 * The parsers are passed per query (`{ text, values, types: pgTypes }`), never installed in the
 * global `pg.types` nor required on the caller's pool; pass `types: pgTypes` to `new pg.Pool(…)`
 * to get portable values from every query of a pool. Values are written as text parameters
 * (toPgText), so their meaning never depends on how node-postgres would serialise a JS type.
 */
import pg from 'pg';
import type { Row, TableSchema } from '../core/table-schema.js';
import { PG_READ_SETTINGS, introspectPgFamily, pgReadRows, type PgQuery } from './pg-catalog.js';
import { PG_TEXT_PARSERS } from './pg-text.js';
import type { IntrospectOptions, PgQueryable, TableRef } from './types.js';

export { toPgText, PG_TEXT_PARSERS, PG_OID } from './pg-text.js';

/** node-postgres type configuration giving portable values (see pg-text.ts). */
export const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (format !== 'binary') {
      // Types without a portable counterpart (arrays, intervals, inet…) are carried as their text:
      // node-postgres would turn them into JS arrays and objects that no longer read back exactly.
      return PG_TEXT_PARSERS[oid] ?? asText;
    }
    return (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

const asText = (text: string): string => text;

function pgQuery(conn: PgQueryable): PgQuery {
  return async <T>(text: string, values: unknown[]) => (await conn.query({ text, values, types: pgTypes })).rows as T[];
}

export function introspectPostgres(conn: PgQueryable, table: TableRef, opts: IntrospectOptions = {}): Promise<TableSchema> {
  return introspectPgFamily(pgQuery(conn), table, opts);
}

function isPool(conn: PgQueryable): conn is pg.Pool {
  return typeof (conn as pg.Pool).connect === 'function' && typeof (conn as pg.Pool).totalCount === 'number';
}

/**
 * The table's rows (or those with the given keys) in primary-key order, as portable values. On a
 * pool the read runs in its own transaction with the session settings of PG_READ_SETTINGS; on a
 * client it runs in the client's session as it is (keep extra_float_digits ≥ 1, DateStyle ISO).
 */
export async function readRowsPostgres(conn: PgQueryable, table: TableSchema, keys?: readonly Row[]): Promise<Row[]> {
  const run = (q: PgQuery): Promise<Row[]> => pgReadRows(q, table, keys);
  if (!isPool(conn)) return run(pgQuery(conn));
  const client = await conn.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN READ ONLY');
    for (const s of PG_READ_SETTINGS) await client.query(s);
    const rows = await run(pgQuery(client));
    await client.query('COMMIT');
    return rows;
  } catch (err) {
    await client.query('ROLLBACK').catch((e: Error) => {
      broken = e;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
