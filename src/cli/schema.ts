/**
 * `sluice schema -c cfg [--table t] [--json]`: the history of the source tables' shapes as the
 * pipeline applied them (state/schema-history.ts), oldest first: when, at which source position,
 * the columns added (with their portable type), dropped and retyped, and whether the target gained them.
 */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { lazyStateStore, tableRef } from '../pipeline/endpoints.js';
import { SchemaHistory } from '../state/index.js';

export const schemaHelp = `Usage: sluice schema -c <config.yaml> [--table <name>] [--json]

Lists the changes of the source tables' shapes that the pipeline applied (log capture: a column
added or dropped at the source), oldest first, with the source position from which changes carry
the new shape and whether the target gained the new columns (target.evolve).`;

export async function schemaCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      table: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void console.log(schemaHelp);
  if (!values.config)
    throw Object.assign(new Error('expected: sluice schema -c <config.yaml> (see sluice schema --help)'), {
      code: 'ERR_PARSE_ARGS_MISSING',
    });
  const cfg = await loadConfigFile(values.config);
  const closers: Array<() => Promise<void>> = [];
  try {
    const table = values.table ? tableRef(values.table) : undefined;
    const entries = await new SchemaHistory(await lazyStateStore(cfg, closers).get(), cfg.name).list(
      table ? `${table.schema ?? 'public'}.${table.name}` : undefined,
    );
    if (values.json) return void console.log(JSON.stringify(entries, null, 2));
    if (entries.length === 0) return void console.log('no schema change recorded');
    for (const e of entries) {
      const added = e.added.map((c) => `+${c.name} ${c.type.kind}`);
      const dropped = e.dropped.map((c) => `-${c}`);
      const retyped = (e.retyped ?? []).map((c) => `~${c.name} ${c.from.kind}→${c.to.kind}`);
      if (e.ddl) console.log(`${e.recordedAt}  ${e.table}  at ${e.position}  ${e.ddl.tag}: ${e.ddl.statement.replace(/\s+/g, ' ').trim()}`);
      else
        console.log(
          `${e.recordedAt}  ${e.table}  at ${e.position}  ${[...added, ...dropped, ...retyped].join(' ')}  target ${e.targetEvolved ? 'evolved' : 'not evolved'}`,
        );
    }
  } finally {
    for (const c of closers.reverse()) await c().catch(() => {});
  }
}
