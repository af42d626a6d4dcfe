/**
 * The two databases of a pipeline and what is bound between them: source and target opened (each
 * checked at once), the configured tables introspected, the sink prepared. Used by `run`, `dlq`,
 * `check`, `reconcile` and the dashboard's controls; plus the state store, opened on first use.
 */
import { join } from 'node:path';
import { sourceConnection, type SluiceConfig, type TableSpec } from '../config/schema.js';
import type { TableSchema } from '../core/table-schema.js';
import { qualifiedName } from '../core/table-schema.js';
import type { TableRef } from '../core/change-event.js';
import { SluiceError } from '../core/errors.js';
import { introspect } from '../metadata/index.js';
import { createSink, type SqlSink } from '../apply/index.js';
import { openStateStore, type SqlStore } from '../state/index.js';
import { openConnection, type OpenConnection } from './connections.js';

export function tableRef(spec: TableSpec): TableRef & { keyColumns?: string[]; topic?: string; target?: string } {
  const name = typeof spec === 'string' ? spec : spec.name;
  const dot = name.indexOf('.');
  const ref = dot > 0 ? { schema: name.slice(0, dot), name: name.slice(dot + 1) } : { name };
  return typeof spec === 'string'
    ? ref
    : {
        ...ref,
        ...(spec.keyColumns ? { keyColumns: spec.keyColumns } : {}),
        ...(spec.topic ? { topic: spec.topic } : {}),
        ...(spec.target ? { target: spec.target } : {}),
      };
}

export interface RunOptions {
  /** Already open connections to use instead of opening those the config names (embedded PGlite shared with an in-process application). */
  source?: OpenConnection;
  target?: OpenConnection;
}

export interface Endpoints {
  source: OpenConnection | undefined;
  target: OpenConnection;
  tables: TableSchema[];
  specs: ReturnType<typeof tableRef>[];
  sink: SqlSink;
}

/**
 * Opens source and target, introspects the configured tables and prepares the sink. Everything
 * opened is pushed on `closers` (last opened, first closed). Used by `run`, `dlq` and `check`.
 */
export async function openEndpoints(cfg: SluiceConfig, opts: RunOptions, closers: Array<() => Promise<void>>): Promise<Endpoints> {
  const target = opts.target ?? (await openConnection(cfg.target.connection, 'target.connection'));
  if (!opts.target) closers.push(() => target.close());
  const declared = sourceConnection(cfg.source);
  const source = opts.source ?? (declared ? await openConnection(declared, 'source.connection') : undefined);
  if (source && !opts.source) closers.push(() => source.close());
  const metaConn = source ?? target;
  const specs = cfg.source.tables.map(tableRef);
  const tables: TableSchema[] = [];
  for (const [i, spec] of specs.entries()) {
    try {
      tables.push(await introspect(metaConn, spec, spec.keyColumns ? { keyColumns: spec.keyColumns } : {}));
    } catch (err) {
      if (err instanceof SluiceError)
        throw new SluiceError(err.code, `source.tables[${i}]: ${err.message}`, {
          cause: err,
          context: { ...err.context, configPath: `source.tables[${i}]` },
        });
      throw err;
    }
  }
  const targets = new Map(specs.map((s, i) => [qualifiedName(tables[i]!), s.target]));
  const sink = createSink({
    evolve: cfg.target.evolve,
    ...sinkTarget(target),
    tables,
    resolveTable: (t) => {
      const to = targets.get(qualifiedName(t));
      if (to) return tableRef(to);
      // A PostgreSQL schema means nothing on MariaDB (and a MariaDB database nothing on PostgreSQL):
      // across engine families the target table is looked up in the target connection's default.
      return family(metaConn.dialect) === family(target.dialect) ? t : { name: t.name };
    },
  });
  await sink.prepare(tables);
  closers.push(() => sink.close());

  return { source, target, tables, specs, sink };
}

/**
 * The state store, opened on first use (embedded PGlite takes seconds and most of a GB), closed
 * with the pipeline. `opened()` is the store if something opened it already.
 */
export function lazyStateStore(
  cfg: SluiceConfig,
  closers: Array<() => Promise<void>>,
): { get: () => Promise<SqlStore>; opened: () => SqlStore | undefined } {
  let store: SqlStore | undefined;
  let opening: Promise<SqlStore> | undefined;
  const get = () => {
    opening ??= openStateStore(cfg.state.url ? { url: cfg.state.url } : { dataDir: join(cfg.state.dataDir, 'state') }).then((s) => {
      store = s;
      closers.push(() => s.close());
      return s;
    });
    return opening;
  };
  return { get, opened: () => store };
}

function family(d: OpenConnection['dialect']): 'pg' | 'mysql' {
  return d === 'mysql' ? 'mysql' : 'pg';
}

function sinkTarget(conn: OpenConnection): Parameters<typeof createSink>[0] {
  switch (conn.dialect) {
    case 'postgres':
      return { dialect: 'postgres', connection: conn.connection as never };
    case 'mysql':
      return { dialect: 'mysql', connection: conn.connection as never };
    case 'pglite':
      return { dialect: 'pglite', connection: conn.connection as never };
  }
}
