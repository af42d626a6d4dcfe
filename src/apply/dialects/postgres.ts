/**
 * PostgreSQL: the state and load SQL of the PostgreSQL family (pg-family.ts, pg-load.ts), every
 * load plan.ts knows. The guard's own write (one version row per key) costs about as much as the
 * row itself, which is what separates the sink from a plain COPY (bench/apply-postgres.ts).
 */
import { classifyError } from '../errors.js';
import { copyRow, inlineRow, pgTableSql } from './pg-load.js';
import { pgStateNames, pgStateStatements } from './pg-family.js';
import type { SinkDialect } from './types.js';

export interface PostgresDialectOptions {
  /** Schema for sluice's own tables (default: the connection's search_path, usually public). */
  readonly stateSchema?: string;
  /** Try large batches of upserts as new keys (plan.ts; default true). */
  readonly newKeys?: boolean;
}

/** Up to this many changes of a table travel inline (plan.ts). */
const INLINE_MAX = 64;

/**
 * From this many upserts of a table, new keys are tried. The attempt costs six round trips (a
 * savepoint, two COPYs of two each, its release) against the stage's three, so it pays only where
 * the rows' own cost dominates. Measured on loopback (bench/apply-postgres.ts's table, new keys,
 * 2026-12-05, a loaded 2-core host): at 200 and at 1,000 rows a batch it keeps up with the plain
 * INSERTs from the stage it replaced, which were about 1.25× the guarded statement alone at 1,000 rows
 * (median 62k against 49k rows/s); 500 leaves room for a network's extra round trips.
 */
const NEW_KEYS_MIN = 500;

export function postgresDialect(opts: PostgresDialectOptions = {}): SinkDialect {
  const names = pgStateNames(opts.stateSchema);
  return {
    dialect: 'postgres',
    maxKeyTextLength: 2000,
    loads: { stage: true, inlineMax: INLINE_MAX, newKeysMin: opts.newKeys === false ? Infinity : NEW_KEYS_MIN },
    load: { family: 'pg', table: (b) => pgTableSql(b, names), copyRow, inlineRow },
    state: pgStateStatements(names, opts.stateSchema, true),
    classify: classifyError,
  };
}
