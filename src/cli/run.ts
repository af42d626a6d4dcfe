/** `sluice run -c sluice.yaml`: runs the pipeline a config describes until Ctrl-C. */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { sourceConnection, type ConnectionConfig, type SluiceConfig } from '../config/schema.js';
import { runPipeline } from '../pipeline/run.js';
import { startProgress } from '../pipeline/progress.js';
import { createLogger, logFormatOption, redactUrl } from '../observe/logger.js';

export const runHelp = `Usage: sluice run -c <config.yaml> [--no-progress] [--log-format json|pretty]

Runs the pipeline the config describes (capture → transport → apply) until interrupted.
Ctrl-C (SIGINT) or SIGTERM stops it cleanly: in-flight batches finish, nothing unapplied is
acknowledged; the next start resumes where it left off.

Options:
  -c, --config <file>   the YAML config (see docs/config.md)
  --no-progress         no live progress line
  --log-format <f>      json (one object per line) or pretty (readable); default pretty on a
                        terminal, json otherwise; also SLUICE_LOG_FORMAT
  -h, --help            this text`;

export async function runCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      'no-progress': { type: 'boolean' },
      'log-format': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void console.log(runHelp);
  if (!values.config)
    throw Object.assign(new Error('missing -c <config.yaml> (see sluice run --help)'), { code: 'ERR_PARSE_ARGS_MISSING' });
  const format = logFormatOption(values['log-format']);
  const cfg = await loadConfigFile(values.config);
  const log = createLogger({ name: `sluice-${cfg.name}`, ...(format ? { format } : {}) });
  // Last resort: an error nobody awaited (a bug, a library's callback) must not leave a pipeline
  // that looks alive and no longer moves, or one that never exits. Logged, then a non-zero exit,
  // so that a supervisor restarts the process; the next start resumes where this one left off.
  const lastResort = (what: string) => (err: unknown) => {
    log.fatal({ err }, `${what}; exiting`);
    process.exit(1);
  };
  process.on('unhandledRejection', lastResort('unhandled promise rejection'));
  process.on('uncaughtException', lastResort('uncaught exception'));
  log.info(`starting ${describePipeline(cfg)}`);
  const pipeline = await runPipeline(cfg, log);
  log.info(
    { tables: pipeline.tables.map((t) => t.name), api: pipeline.apiUrl, registry: pipeline.registryUrl, observe: pipeline.observeUrl },
    'running',
  );
  const stopProgress = values['no-progress'] ? () => {} : startProgress(pipeline.stats);
  await new Promise<void>((resolve, reject) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping');
      pipeline.stop().then(resolve, reject);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    pipeline.done.catch(async (err) => {
      log.error({ err }, 'pipeline failed');
      await pipeline.stop();
      reject(err);
    });
  }).finally(stopProgress);
  log.info({ applied: pipeline.stats.applied, skipped: pipeline.stats.skipped, deadLettered: pipeline.stats.deadLettered }, 'stopped');
}

/**
 * What the pipeline connects, in one line: `coupons: outbox postgres://app:***@db/shop (2 tables)
 * → kafka 127.0.0.1:9092 topic retail.coupons → mysql://root@db:3306/main`. The whole config is
 * what the user wrote; the line says what it amounts to.
 */
export function describePipeline(cfg: SluiceConfig): string {
  const where = (c: ConnectionConfig | undefined) =>
    !c ? '' : c.dialect === 'pglite' ? `pglite:${c.dataDir ?? 'memory'}` : redactUrl(c.url ?? '');
  const n = cfg.source.tables.length;
  const source = [cfg.source.connector, where(sourceConnection(cfg.source))].filter(Boolean).join(' ');
  const t = cfg.transport;
  const transport = t.kind === 'kafka' ? `kafka ${t.brokers.join(',')} topic ${t.topic}` : 'direct';
  return `${cfg.name}: ${source} (${n} table${n === 1 ? '' : 's'}) → ${transport} → ${where(cfg.target.connection)}`;
}
