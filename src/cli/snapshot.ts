/**
 * `sluice snapshot -c cfg --table t [--where SQL]`: asks the running pipeline (PostgreSQL log
 * source) to re-read a table, or the rows a filter selects, while it keeps streaming: the repair
 * primitive. The request is written to the state store; the pipeline picks it up within a few
 * seconds, re-reads in key-ordered chunks under watermarks (a re-read row never overwrites a newer
 * change) and resumes after its last chunk if it restarts. `--status` lists the requests;
 * `--pause`, `--resume` and `--cancel` control one (capture/snapshot/requests.ts).
 */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { SluiceError } from '../core/errors.js';
import { lazyStateStore, tableRef } from '../pipeline/endpoints.js';
import { ProgressStore } from '../capture/snapshot/progress.js';
import { SnapshotRequests } from '../capture/snapshot/requests.js';

export const snapshotHelp = `Usage: sluice snapshot -c <config.yaml> --table <name> [--where <SQL condition>]
       sluice snapshot -c <config.yaml> --table <name> --pause | --resume | --cancel
       sluice snapshot -c <config.yaml> --status

Asks the running pipeline (source.connector: postgres) to re-read a table while it keeps
streaming, for instance to repair a target: every row (or those --where selects, a SQL condition
run read-only on the source) is copied again in key order, and a copied row never overwrites a
change that is newer. --status lists the requests and how far each got. --pause stops a request
after its current chunk, --resume continues it after its last copied chunk, --cancel ends it where
it is (the rows copied so far stay).`;

export async function snapshotCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      table: { type: 'string' },
      where: { type: 'string' },
      status: { type: 'boolean' },
      pause: { type: 'boolean' },
      resume: { type: 'boolean' },
      cancel: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void console.log(snapshotHelp);
  if (!values.config || (!values.table && !values.status))
    throw Object.assign(new Error('expected: sluice snapshot -c <config.yaml> --table <name> (see sluice snapshot --help)'), {
      code: 'ERR_PARSE_ARGS_MISSING',
    });
  const cfg = await loadConfigFile(values.config);
  if (cfg.source.connector !== 'postgres') {
    throw new SluiceError(
      'SLUICE_ERR_CONFIG',
      `source.connector: incremental snapshots are read from a log source (this config uses ${cfg.source.connector})`,
      { context: { configPath: 'source.connector' } },
    );
  }
  const closers: Array<() => Promise<void>> = [];
  try {
    const requests = new SnapshotRequests(new ProgressStore(await lazyStateStore(cfg, closers).get(), cfg.name));
    if (values.status) {
      for (const r of await requests.list()) console.log(`${r.table}: ${r.state}, ${r.rows} rows${r.where ? `, where ${r.where}` : ''}`);
      return;
    }
    const ref = tableRef(values.table!);
    const name = `${ref.schema ?? 'public'}.${ref.name}`;
    const configured = cfg.source.tables.map(tableRef).some((t) => `${t.schema ?? 'public'}.${t.name}` === name);
    if (!configured)
      throw new SluiceError('SLUICE_ERR_CONFIG', `--table: ${name} is not one of source.tables`, {
        context: { configPath: 'source.tables' },
      });
    const action = values.pause ? 'pause' : values.resume ? 'resume' : values.cancel ? 'cancel' : undefined;
    if (action) {
      if (values.where)
        throw Object.assign(new Error(`--where goes with a new request, not with --${action}`), {
          code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
        });
      const before = await requests[action](name).catch((err: Error) => {
        // Not a config problem: the request is not in a state this action applies to.
        throw Object.assign(new Error(`--${action}: ${err.message} (sluice snapshot --status)`), {
          code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
        });
      });
      const effect = {
        pause: 'pauses after its current chunk',
        resume: 'resumes after its last copied chunk',
        cancel: 'ends after its current chunk',
      };
      console.log(`incremental snapshot of ${name} (${before.state}, ${before.rows} rows): ${effect[action]}, within a few seconds`);
      return;
    }
    await requests.request(name, values.where);
    console.log(
      `incremental snapshot of ${name} requested${values.where ? ` (where ${values.where})` : ''}: the running pipeline starts it within a few seconds (sluice snapshot --status)`,
    );
  } finally {
    for (const c of closers.reverse()) await c().catch(() => {});
  }
}
