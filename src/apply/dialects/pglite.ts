/**
 * Embedded PGlite: PostgreSQL's SQL (pg-family.ts, pg-load.ts) on one in-process connection, every
 * table's changes loaded through the stage (COPY from a blob costs no round trip worth saving).
 * One connection: no other process shares the state tables, so their DDL takes no lock.
 */
import { classifyError } from '../errors.js';
import { copyRow, inlineRow, pgTableSql } from './pg-load.js';
import { pgStateNames, pgStateStatements } from './pg-family.js';
import type { SinkDialect } from './types.js';

export interface PgliteDialectOptions {
  readonly stateSchema?: string;
}

export function pgliteDialect(opts: PgliteDialectOptions = {}): SinkDialect {
  const names = pgStateNames(opts.stateSchema);
  return {
    dialect: 'pglite',
    maxKeyTextLength: 2000,
    loads: { stage: true, inlineMax: 0, newKeysMin: Infinity },
    load: { family: 'pg', table: (b) => pgTableSql(b, names), copyRow, inlineRow },
    state: pgStateStatements(names, opts.stateSchema, false),
    classify: classifyError,
  };
}
