/** `sluice run -c sluice.yaml`: runs the pipeline a config describes until Ctrl-C. */
import { parseArgs } from 'node:util';
import { loadConfigFile, redactConfig } from '../config/load.js';
import { runPipeline } from '../pipeline/run.js';
import { startProgress } from '../pipeline/progress.js';
import { createLogger } from '../observe/logger.js';

export const runHelp = `Usage: sluice run -c <config.yaml> [--no-progress]

Runs the pipeline the config describes (capture → transport → apply) until interrupted.
Ctrl-C (SIGINT) or SIGTERM stops it cleanly: in-flight batches finish, nothing unapplied is
acknowledged; the next start resumes where it left off.

Options:
  -c, --config <file>   the YAML config (see docs/config.md)
  --no-progress         no live progress line
  -h, --help            this text`;

export async function runCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, 'no-progress': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return void console.log(runHelp);
  if (!values.config) throw Object.assign(new Error('missing -c <config.yaml> (see sluice run --help)'), { code: 'ERR_PARSE_ARGS_MISSING' });
  const cfg = await loadConfigFile(values.config);
  const log = createLogger({ name: `sluice-${cfg.name}` });
  log.info({ config: redactConfig(cfg) }, 'starting');
  const pipeline = await runPipeline(cfg, log);
  log.info({ tables: pipeline.tables.map((t) => t.name), api: pipeline.apiUrl, registry: pipeline.registryUrl }, 'running');
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
