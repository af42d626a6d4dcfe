/**
 * Embedded PGlite: the same catalogs and text forms as PostgreSQL (pg-catalog.ts, pg-text.ts),
 * through PGlite's per-query `parsers` / `serializers` options. PGlite's own defaults read int8 as
 * a JS number (precision lost beyond 2^53) and bytea as Uint8Array; these give portable values.
 * Parameters are always PostgreSQL text (toPgText), so the serializers pass them through unchanged.
 */
import type { QueryOptions } from '@electric-sql/pglite';
import type { Row, TableSchema } from '../core/table-schema.js';
import { PG_READ_SETTINGS, introspectPgFamily, pgReadRows, type PgQuery } from './pg-catalog.js';
import { PG_OID, PG_TEXT_PARSERS } from './pg-text.js';
import type { IntrospectOptions, PgliteQueryable, TableRef } from './types.js';

const passText = (x: unknown): string => (typeof x === 'string' ? x : String(x));

/** Query options giving portable values and taking PostgreSQL text parameters. */
export const pgliteQueryOptions: QueryOptions = {
  parsers: PG_TEXT_PARSERS as QueryOptions['parsers'],
  serializers: Object.fromEntries(Object.values(PG_OID).map((oid) => [oid, passText])),
};

function pgliteQuery(conn: PgliteQueryable): PgQuery {
  return async <T>(sql: string, params: unknown[]) => (await conn.query<T>(sql, params, pgliteQueryOptions)).rows;
}

export function introspectPglite(conn: PgliteQueryable, table: TableRef, opts: IntrospectOptions = {}): Promise<TableSchema> {
  return introspectPgFamily(pgliteQuery(conn), table, opts);
}

function isInstance(conn: PgliteQueryable): conn is import('@electric-sql/pglite').PGliteInterface {
  return typeof (conn as { transaction?: unknown }).transaction === 'function';
}

/** As readRowsPostgres; on a PGlite instance the read runs in its own transaction. */
export async function readRowsPglite(conn: PgliteQueryable, table: TableSchema, keys?: readonly Row[]): Promise<Row[]> {
  const run = (q: PgQuery): Promise<Row[]> => pgReadRows(q, table, keys);
  if (!isInstance(conn)) return run(pgliteQuery(conn));
  return conn.transaction(async (tx) => {
    for (const s of PG_READ_SETTINGS) await tx.query(s);
    return run(pgliteQuery(tx));
  });
}
