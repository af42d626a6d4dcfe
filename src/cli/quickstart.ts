/** `sluice quickstart`: the whole pipeline on embedded defaults, with a workload; `npm start` runs it. */
import { parseArgs } from 'node:util';
import { runQuickstart } from '../quickstart/run-quickstart.js';
import { createLogger, logFormatOption } from '../observe/logger.js';
import { SluiceError } from '../core/errors.js';

export const quickstartHelp = `Usage: sluice quickstart [--rate <tx/s>] [--data-dir <dir>] [--seconds <n>] [--log-format json|pretty]

Runs sluice on embedded defaults: PGlite source and target databases on disk (no server), the
retailer's coupon tables, a workload playing the source service (inserts, updates and
deletes through the transactional outbox) and the direct transport (no broker). One live line
shows captured, applied and lag. Ctrl-C drains and stops; the next start resumes.

Options:
  --rate <n>        business transactions per second (default 200)
  --data-dir <dir>  where the embedded databases live (default ./.sluice/quickstart)
  --seconds <n>     stop by itself after n seconds
  --log-format <f>  json or pretty (default: pretty on a terminal; also SLUICE_LOG_FORMAT)
  -h, --help        this text`;

export async function quickstartCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rate: { type: 'string', default: '200' },
      'data-dir': { type: 'string', default: './.sluice/quickstart' },
      seconds: { type: 'string' },
      'log-format': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void console.log(quickstartHelp);
  const rate = Number(values.rate);
  if (!Number.isFinite(rate) || rate <= 0)
    throw new SluiceError('SLUICE_ERR_CONFIG', `--rate must be a positive number, got "${values.rate}"`, {
      context: { configPath: '--rate' },
    });
  const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
  if (seconds !== undefined && !(seconds >= 0))
    throw new SluiceError('SLUICE_ERR_CONFIG', `--seconds must be a number, got "${values.seconds}"`, {
      context: { configPath: '--seconds' },
    });
  const format = logFormatOption(values['log-format']);
  const log = createLogger({ name: 'sluice-quickstart', level: process.env.SLUICE_LOG_LEVEL ?? 'warn', ...(format ? { format } : {}) });
  const res = await runQuickstart({
    dataDir: values['data-dir'],
    rate,
    ...(seconds !== undefined ? { seconds } : {}),
    log,
    out: (l) => console.log(l),
  });
  if (!res.equal) process.exitCode = 1;
}
