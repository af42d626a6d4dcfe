/** `sluice dlq list|show|replay|skip`: the dead letters of a pipeline's target. */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { openEndpoints } from '../pipeline/run.js';
import { SluiceError } from '../core/errors.js';

export const dlqHelp = `Usage: sluice dlq <list|show|replay|skip> -c <config.yaml> [id] [options]

Changes that failed for a non-transient reason (a constraint, a value out of range) wait in the
target's dead-letter table, with the later changes of their key parked behind them.

  list [--table T] [--status open|replayed|skipped|all] [--limit N]   the dead letters
  show <id>      one dead letter: error, raw change, parked changes
  replay <id>    apply it again (after fixing the cause), then its key's parked changes in order
  skip <id>      drop it and apply its key's parked changes

Options:
  -c, --config <file>   the pipeline's config
  --json                machine-readable output`;

const SUBCOMMANDS = ['list', 'show', 'replay', 'skip'] as const;

export async function dlqCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      table: { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [sub, idText] = positionals;
  if (values.help || !sub) return void console.log(dlqHelp);
  if (!(SUBCOMMANDS as readonly string[]).includes(sub))
    throw new SluiceError('SLUICE_ERR_CONFIG', `unknown dlq subcommand "${sub}" (${SUBCOMMANDS.join(', ')})`);
  if (!values.config) throw new SluiceError('SLUICE_ERR_CONFIG', 'missing -c <config.yaml>');
  const id = idText === undefined ? undefined : Number(idText);
  if (sub !== 'list' && (id === undefined || !Number.isInteger(id)))
    throw new SluiceError('SLUICE_ERR_CONFIG', `dlq ${sub} needs a dead-letter id (see sluice dlq list)`);
  const cfg = await loadConfigFile(values.config);
  const closers: Array<() => Promise<void>> = [];
  try {
    const { sink } = await openEndpoints(cfg, {}, closers);
    const dl = sink.deadLetters;
    const print = (v: unknown) =>
      console.log(
        JSON.stringify(
          v,
          (_, x) => (typeof x === 'bigint' ? x.toString() : Buffer.isBuffer(x) ? x.toString('base64') : x),
          values.json ? 0 : 2,
        ),
      );
    switch (sub) {
      case 'list': {
        const status = (values.status ?? 'open') as 'open';
        const rows = await dl.list({
          ...(values.table ? { table: values.table } : {}),
          status,
          limit: values.limit ? Number(values.limit) : 100,
        });
        if (values.json) return print(rows);
        if (rows.length === 0) return void console.log(`no ${status === ('all' as string) ? '' : `${status} `}dead letters`);
        for (const r of rows)
          console.log(
            `${String(r.id).padStart(6)}  ${r.status.padEnd(8)}  ${r.table}  key ${r.keyText}  v${r.version}  ${r.parked} parked  ${r.errorCode ?? ''}: ${r.errorMessage ?? ''}`,
          );
        return;
      }
      case 'show': {
        const d = await dl.show(id!);
        if (!d) throw new SluiceError('SLUICE_ERR_CONFIG', `no dead letter with id ${id}`);
        return print(d);
      }
      case 'replay':
      case 'skip': {
        const res = sub === 'replay' ? await dl.replay(id!) : await dl.skip(id!);
        print(res);
        if (res.open) process.exitCode = 1;
        return;
      }
    }
  } finally {
    for (const c of closers.reverse()) await c().catch(() => {});
  }
}
