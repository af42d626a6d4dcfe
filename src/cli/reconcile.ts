/**
 * `sluice reconcile`: compare source and target, optionally repair, report (and, with a config,
 * store the report and alert). Two forms: a pipeline's config (-c), or a one-off comparison of two
 * databases given by URL (--source, --target, --table), which needs no config and no state store.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { ConfigSchema, type SluiceConfig } from '../config/schema.js';
import { SluiceError } from '../core/errors.js';
import type { TableRef } from '../core/change-event.js';
import type { TableSchema } from '../core/table-schema.js';
import { createSink, type SqlSink } from '../apply/index.js';
import { introspect } from '../metadata/index.js';
import { createLogger, redactUrl } from '../observe/logger.js';
import { openConnection, type OpenConnection } from '../pipeline/connections.js';
import { openEndpoints, tableRef } from '../pipeline/run.js';
import { reconcileFromConfig } from '../pipeline/reconcile.js';
import { startReconcileProgress } from '../reconcile/progress.js';
import { reconcile, type ReconcileProgressState, type ReconcileTable } from '../reconcile/reconcile.js';
import { confirmedDrift, formatReport, type ReconcileReport } from '../reconcile/report.js';
import { openStateStore, type SqlStore } from '../state/index.js';

export const reconcileHelp = `Usage: sluice reconcile -c <config.yaml> [--table T …] [--repair] [--format text|json]
       sluice reconcile --source <url> --target <url> --table T [--table T2 …] [--repair] [--format text|json]

Compares tables on the source and the target by key-range checksums computed in the databases,
narrows differing ranges down to rows, re-checks those rows, and prints a report.

With a pipeline's config (-c): every configured table (or --table), re-checked once replication
has passed a fresh source position (rows only in flight are not reported), safe while the
pipeline runs; the report is stored in the state store and confirmed drift is alerted
(reconcile.alert).

One-off, without a config (--source, --target): the tables named by --table, in the databases the
URLs name (postgres:// or postgresql:// for PostgreSQL, mysql:// or mariadb:// for MariaDB/MySQL),
each table found by the same name on the target. Nothing replicates between them, so rows are
re-checked but never waited for; the report is printed only (no state store, no alert).
Settings are the reconcile.* defaults (docs/config.md).

Options:
  -c, --config <file>   the pipeline's config
  --source <url>        one-off: the source database
  --target <url>        one-off: the target database
  --table <name>        a source table, "name" or "schema.name" (repeatable); with -c the default
                        is reconcile.tables or every configured table, one-off it is required
  --repair              repair confirmed drift on the target from the source's current rows,
                        through the version guard (a newer replicated change always wins); keeps
                        its version rows in the target database (created when missing, as the
                        pipeline's sink does)
  --max-repair-share S  one-off: above this share of a table's rows drifted, repair is refused
                        (default 0.05, as reconcile.maxRepairShare)
  --format text|json    report format on stdout (default text); json lists every drifted key up to
                        reconcile.keyLimit per kind and counts the rest in keysLeftOut
  --no-progress         no progress line
  -h, --help            this text

Exit status: 0 when every table is in sync (or was repaired), 1 when confirmed drift remains
or a table could not be compared, 2 on a usage or config error.`;

export async function reconcileCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      source: { type: 'string' },
      target: { type: 'string' },
      table: { type: 'string', multiple: true },
      repair: { type: 'boolean' },
      'max-repair-share': { type: 'string' },
      format: { type: 'string' },
      'no-progress': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void console.log(reconcileHelp);
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new SluiceError('SLUICE_ERR_CONFIG', `--format: "${format}" is not text or json`);
  const oneOff = values.source !== undefined || values.target !== undefined;
  if (oneOff && values.config)
    throw new SluiceError(
      'SLUICE_ERR_CONFIG',
      '-c and --source/--target are two forms: give a config, or the two URLs (see sluice reconcile --help)',
    );
  if (!oneOff && !values.config)
    throw new SluiceError(
      'SLUICE_ERR_CONFIG',
      'missing -c <config.yaml>, or --source <url> --target <url> --table <name> (see sluice reconcile --help)',
    );
  if (!oneOff && values['max-repair-share'] !== undefined)
    throw new SluiceError('SLUICE_ERR_CONFIG', '--max-repair-share is for the one-off form; with a config set reconcile.maxRepairShare', {
      context: { configPath: 'reconcile.maxRepairShare' },
    });
  const maxShare = values['max-repair-share'] === undefined ? undefined : Number(values['max-repair-share']);
  if (maxShare !== undefined && !(maxShare >= 0 && maxShare <= 1))
    throw new SluiceError(
      'SLUICE_ERR_CONFIG',
      `--max-repair-share: "${values['max-repair-share']}" is not a share from 0 to 1 (0.05 is 5%)`,
    );

  let progress: ReconcileProgressState | undefined;
  const onProgress = (p: ReconcileProgressState) => {
    progress = p;
  };
  const stopProgress = values['no-progress'] ? () => {} : startReconcileProgress(() => progress && { ...progress });
  const closers: Array<() => Promise<void>> = [];
  try {
    const repair = values.repair ?? false;
    const report = oneOff
      ? await oneOffReconcile(
          {
            source: values.source,
            target: values.target,
            tables: values.table ?? [],
            repair,
            onProgress,
            ...(maxShare !== undefined ? { maxShare } : {}),
          },
          closers,
        )
      : await configReconcile(values.config!, { repair, ...(values.table ? { tables: values.table } : {}), onProgress }, closers);
    stopProgress();
    console.log(format === 'json' ? JSON.stringify(report, null, 2) : formatReport(report));
    const unrepaired = report.tables.some((t) => t.error !== undefined || (confirmedDrift(t) > 0 && t.repair.status !== 'done'));
    if (unrepaired) process.exitCode = 1;
  } finally {
    stopProgress();
    for (const c of closers.reverse()) await c().catch(() => {});
  }
}

interface RunFlags {
  readonly repair: boolean;
  readonly tables?: readonly string[];
  readonly onProgress: (p: ReconcileProgressState) => void;
}

async function configReconcile(file: string, o: RunFlags, closers: Array<() => Promise<void>>): Promise<ReconcileReport> {
  const cfg = await loadConfigFile(file);
  const log = createLogger({ name: `sluice-${cfg.name}`, level: process.env.SLUICE_LOG_LEVEL ?? 'warn', fd: 2 });
  const ep = await openEndpoints(cfg, {}, closers);
  const state = await openEmbeddedState(cfg, closers);
  return reconcileFromConfig(cfg, log, ep, { ...o, ...(state ? { state } : {}) });
}

/**
 * The embedded state store opened before the comparison rather than after it: creating it on the
 * first run takes seconds (17 s on a busy 2-core machine, 0.9 s to open afterwards), which would
 * otherwise be a silent pause between the last progress line and the report. A store that cannot
 * be opened (`sluice run` holds it) leaves the report printed but not stored, as before.
 */
async function openEmbeddedState(cfg: SluiceConfig, closers: Array<() => Promise<void>>): Promise<SqlStore | undefined> {
  if (cfg.state.url) return undefined;
  const dir = join(cfg.state.dataDir, 'state');
  if (!existsSync(dir)) {
    process.stderr.write(
      `sluice: creating the embedded state store in ${dir}, which keeps reconcile reports (first run only: this takes a while; set state.url to keep state in PostgreSQL)\n`,
    );
  }
  try {
    const store = await openStateStore({ dataDir: dir });
    closers.push(() => store.close());
    return store;
  } catch (err) {
    process.stderr.write(`sluice: the report will be printed but not stored: ${(err as Error).message}\n`);
    return undefined;
  }
}

// --- one-off -----------------------------------------------------------------------------------

interface OneOff extends RunFlags {
  readonly source: string | undefined;
  readonly target: string | undefined;
  readonly tables: readonly string[];
  readonly maxShare?: number;
}

/** The dialect a URL's scheme names; the URL as its driver takes it (mysql2 knows only mysql://). */
export function connectionOfUrl(url: string | undefined, flag: '--source' | '--target'): { dialect: 'postgres' | 'mysql'; url: string } {
  if (!url) throw new SluiceError('SLUICE_ERR_CONFIG', `${flag} <url> is missing: the one-off form needs both --source and --target`);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return { dialect: 'postgres', url };
  if (scheme === 'mysql' || scheme === 'mariadb')
    return { dialect: 'mysql', url: scheme === 'mariadb' ? `mysql${url.slice('mariadb'.length)}` : url };
  throw new SluiceError('SLUICE_ERR_CONFIG', `${flag}: ${redactUrl(url)} is not a postgres://, postgresql://, mysql:// or mariadb:// URL`);
}

async function oneOffReconcile(o: OneOff, closers: Array<() => Promise<void>>): Promise<ReconcileReport> {
  const from = connectionOfUrl(o.source, '--source');
  const to = connectionOfUrl(o.target, '--target');
  if (o.tables.length === 0)
    throw new SluiceError(
      'SLUICE_ERR_CONFIG',
      '--table <name> is missing: the one-off form compares the tables it names (repeat --table for more)',
    );
  // The defaults of every reconcile.* key, from the config schema itself.
  const rc = ConfigSchema.shape.reconcile.parse(undefined);
  const source = await openConnection({ ...from, poolSize: 4 }, '--source');
  closers.push(() => source.close());
  const target = await openConnection({ ...to, poolSize: 4 }, '--target');
  closers.push(() => target.close());

  const tables: ReconcileTable[] = [];
  for (const name of o.tables) {
    const ref = tableRef(name);
    const s = await introspectNamed(source, ref, '--source');
    // A schema means nothing across engines (a PostgreSQL schema is no MariaDB database).
    const targetRef = sameFamily(source, target) ? ref : { name: ref.name };
    tables.push({ source: s, target: await introspectNamed(target, targetRef, '--target', s.primaryKey) });
  }

  let sink: SqlSink | undefined;
  if (o.repair) {
    const resolveTable = (t: TableRef): TableRef => (sameFamily(source, target) ? t : { name: t.name });
    sink =
      target.dialect === 'mysql'
        ? createSink({ dialect: 'mysql', connection: target.connection as never, tables: tables.map((t) => t.source), resolveTable })
        : createSink({ dialect: 'postgres', connection: target.connection as never, tables: tables.map((t) => t.source), resolveTable });
    closers.push(() => sink!.close());
    await sink.prepare();
  }
  return reconcile({
    name: 'one-off',
    source,
    target,
    tables,
    ...(sink
      ? {
          repair: {
            sink,
            maxShare: o.maxShare ?? rc.maxRepairShare,
            maxShareSetting: '--max-repair-share',
            rowsPerSecond: rc.repairRowsPerSecond,
            batch: 500,
          },
        }
      : {}),
    diff: { rangeMs: rc.rangeMs, waitTimeoutMs: rc.waitTimeoutMs },
    recheck: { rounds: rc.recheckRounds, waitTimeoutMs: rc.waitTimeoutMs },
    keyLimit: rc.keyLimit,
    onProgress: o.onProgress,
  });
}

function sameFamily(a: OpenConnection, b: OpenConnection): boolean {
  return (a.dialect === 'mysql') === (b.dialect === 'mysql');
}

async function introspectNamed(conn: OpenConnection, ref: TableRef, flag: string, keyColumns?: readonly string[]): Promise<TableSchema> {
  try {
    // The target is compared by the source's key, whatever its own primary key is.
    return await introspect(conn, ref, keyColumns ? { keyColumns: [...keyColumns] } : {});
  } catch (err) {
    if (err instanceof SluiceError)
      throw new SluiceError(
        err.code,
        `--table ${ref.schema ? `${ref.schema}.` : ''}${ref.name} (${flag} ${conn.describe}): ${err.message}`,
        { cause: err, context: { ...err.context } },
      );
    throw err;
  }
}
