/** `sluice reconcile -c sluice.yaml`: compare source and target, optionally repair, report and alert. */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { SluiceError } from '../core/errors.js';
import { createLogger } from '../observe/logger.js';
import { openEndpoints } from '../pipeline/run.js';
import { reconcileFromConfig } from '../pipeline/reconcile.js';
import { startReconcileProgress } from '../reconcile/progress.js';
import type { ReconcileProgressState } from '../reconcile/reconcile.js';
import { confirmedDrift, formatReport } from '../reconcile/report.js';

export const reconcileHelp = `Usage: sluice reconcile -c <config.yaml> [--table T …] [--repair] [--format text|json]

Compares each configured table on the source and the target by key-range checksums computed in
the databases, narrows differing ranges down to rows, re-checks those rows once replication has
passed a fresh source position (so rows that were only in flight are not reported), and prints
a report; the report is stored in the state store and confirmed drift is alerted
(reconcile.alert in the config). Safe while the pipeline runs.

Options:
  -c, --config <file>   the pipeline's config
  --table <name>        only this source table (repeatable); default reconcile.tables or all
  --repair              repair confirmed drift on the target from the source's current rows,
                        through the version guard (a newer replicated change always wins)
  --format text|json    report format on stdout (default text)
  --no-progress         no progress line
  -h, --help            this text

Exit status: 0 when every table is in sync (or was repaired), 1 when confirmed drift remains
or a table could not be compared, 2 on a usage or config error.`;

export async function reconcileCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' }, table: { type: 'string', multiple: true }, repair: { type: 'boolean' },
      format: { type: 'string' }, 'no-progress': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void console.log(reconcileHelp);
  if (!values.config) throw new SluiceError('SLUICE_ERR_CONFIG', 'missing -c <config.yaml> (see sluice reconcile --help)');
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new SluiceError('SLUICE_ERR_CONFIG', `--format: "${format}" is not text or json`);
  const cfg = await loadConfigFile(values.config);
  const log = createLogger({ name: `sluice-${cfg.name}`, level: process.env.SLUICE_LOG_LEVEL ?? 'warn', fd: 2 });
  const closers: Array<() => Promise<void>> = [];
  let progress: ReconcileProgressState | undefined;
  const stopProgress = values['no-progress'] ? () => {} : startReconcileProgress(() => progress && { ...progress });
  try {
    const ep = await openEndpoints(cfg, {}, closers);
    const report = await reconcileFromConfig(cfg, log, ep, {
      repair: values.repair ?? false, ...(values.table ? { tables: values.table } : {}), onProgress: (p) => { progress = p; },
    });
    stopProgress();
    console.log(format === 'json' ? JSON.stringify(report, null, 2) : formatReport(report));
    const unrepaired = report.tables.some((t) => t.error !== undefined || (confirmedDrift(t) > 0 && t.repair.status !== 'done'));
    if (unrepaired) process.exitCode = 1;
  } finally {
    stopProgress();
    for (const c of closers.reverse()) await c().catch(() => {});
  }
}
