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
 * From this many upserts of a table, new keys are tried. The attempt costs four round trips (a
 * savepoint, two COPYs, its release) against the stage's two, so it pays only where the rows' own
 * cost dominates.
 */
const NEW_KEYS_MIN = 2000;

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
