/** `sluice run -c sluice.yaml`: runs the pipeline a config describes until Ctrl-C. */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { sourceConnection, type ConnectionConfig, type SluiceConfig } from '../config/schema.js';
import { runPipeline } from '../pipeline/run.js';
import { startProgress } from '../pipeline/progress.js';
import { createLogger, logFormatOption, redactUrl } from '../observe/logger.js';

export const runHelp = `Usage: sluice run -c <config.yaml> [--no-progress] [--log-format json|pretty] [--stop-timeout <s>]

Runs the pipeline the config describes (capture → transport → apply) until interrupted.
Ctrl-C (SIGINT) or SIGTERM stops it cleanly: in-flight batches finish, nothing unapplied is
acknowledged; the next start resumes where it left off. A second signal, or a stop that takes
longer than --stop-timeout (default 30 s), exits at once (what was not acknowledged is replayed).

Options:
  -c, --config <file>   the YAML config (see docs/config.md)
  --no-progress         no live progress line
  --stop-timeout <s>    longest wait for a clean stop after SIGINT/SIGTERM (default 30)
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
      'stop-timeout': { type: 'string' },
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
  const stopTimeoutMs = Number(values['stop-timeout'] ?? 30) * 1000;
  if (!(stopTimeoutMs > 0))
    throw Object.assign(new Error(`--stop-timeout: a number of seconds, got "${values['stop-timeout']}"`), {
      code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
    });
  await new Promise<void>((resolve, reject) => {
    let stopping = false;
    // The first signal drains: in-flight batches finish, checkpoints commit, the source is told
    // only what is durable. A second one, or a drain past --stop-timeout, exits at once: whatever
    // was not acknowledged is read again at the next start (nothing is lost, docs/guarantees.md).
    const stop = (signal: string) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting without waiting for the drain');
        process.exit(130);
      }
      stopping = true;
      log.info({ signal, timeoutSeconds: stopTimeoutMs / 1000 }, 'stopping');
      const timer = setTimeout(() => {
        log.error(
          { timeoutSeconds: stopTimeoutMs / 1000 },
          'did not stop in time: exiting; unacknowledged changes are replayed at the next start',
        );
        process.exit(1);
      }, stopTimeoutMs);
      timer.unref();
      pipeline.stop().then(resolve, reject);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
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
