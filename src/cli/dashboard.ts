/**
 * `sluice dashboard -c cfg`: the dashboard of a pipeline that runs elsewhere (another process,
 * another host). Dead letters, reconcile reports and snapshot requests are read from the target
 * and the state store here; status, history and metrics come from the running pipeline's observe
 * server. Capture and apply are never started.
 */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { SluiceError } from '../core/errors.js';
import { createLogger, logFormatOption } from '../observe/logger.js';
import { DEFAULT_OBSERVE_PORT } from '../observe/server.js';
import { startDashboardServer } from '../observe/dashboard-server.js';
import { kafkaConnection, lazyStateStore, openEndpoints, registryAuth } from '../pipeline/run.js';
import { observeControls } from '../pipeline/observe-controls.js';
import { recordDecoder } from '../pipeline/kafka-path.js';
import { AvroSerde } from '../codec/avro-serde.js';
import { RegistryClient } from '../registry/client.js';

export const dashboardHelp = `Usage: sluice dashboard -c <config.yaml> [--url <observe url>] [--port <n>] [--host <addr>]

Serves the dashboard of a pipeline that is running (sluice run with the same config) without
starting capture or apply: dead letters, reconcile reports and snapshot requests are read from the
target and the state store, status, history and /metrics from the pipeline's observe server
(observe.host, observe.port). Replay, skip, reconcile and snapshot requests need observe.token, as
on the pipeline's own server. The state store must be one both processes can open (state.url):
an embedded one is locked by the running pipeline. Prints the dashboard's URL on the first line.

Options:
  -c, --config <file>   the pipeline's config
  --url <url>           the pipeline's observe server (default from observe.host and observe.port)
  --port <n>            port to serve on (default: any free port)
  --host <addr>         address to bind (default observe.host)
  --log-format <f>      json or pretty`;

function observeUrlOf(host: string, port: number | undefined): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port ?? DEFAULT_OBSERVE_PORT}`;
}

export async function dashboardCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      url: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'log-format': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void console.log(dashboardHelp);
  if (!values.config)
    throw Object.assign(new Error('missing -c <config.yaml> (see sluice dashboard --help)'), { code: 'ERR_PARSE_ARGS_MISSING' });
  const port = Number(values.port ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw Object.assign(new Error(`--port: a port number, got "${values.port}"`), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
  const cfg = await loadConfigFile(values.config);
  const upstream = values.url ?? observeUrlOf(cfg.observe.host, cfg.observe.port);
  if (!values.url && !cfg.observe.enabled)
    throw new SluiceError('SLUICE_ERR_CONFIG', 'observe.enabled is false: the pipeline serves no status (or give --url)', {
      context: { configPath: 'observe.enabled' },
    });
  const format = logFormatOption(values['log-format']);
  // Logs on stderr: the first line of stdout is the URL.
  const log = createLogger({ name: `sluice-${cfg.name}-dashboard`, fd: 2, ...(format ? { format } : {}) });
  const closers: Array<() => Promise<void>> = [];
  try {
    const ep = await openEndpoints(cfg, {}, closers);
    const state = lazyStateStore(cfg, closers);
    const auth = registryAuth(cfg);
    const registryUrl = cfg.registry.url ?? `http://127.0.0.1:${cfg.registry.port}`;
    const k = cfg.transport.kind === 'kafka' ? cfg.transport : undefined;
    // The message viewer decodes with the tables' shapes as this process finds them at its start.
    const viewer = k && {
      conn: kafkaConnection(k, log),
      decoder: recordDecoder({
        serde: new AvroSerde(new RegistryClient({ url: registryUrl, ...(auth ? { auth } : {}) }), { autoRegister: false }),
        tables: ep.tables.map((t, i) => ({ table: t, topic: ep.specs[i]!.topic ?? k.topic })),
        namespace: cfg.registry.namespace,
      }),
    };
    const controls = observeControls(cfg, log.child({ stage: 'dashboard' }), ep, {
      state,
      ...(k ? { registry: { url: registryUrl, ...(auth ? { auth } : {}) } } : {}),
      ...(viewer ? { kafka: viewer } : {}),
    });
    const server = await startDashboardServer({
      host: values.host ?? cfg.observe.host,
      port,
      token: cfg.observe.token,
      upstream,
      controls,
      log: log.child({ stage: 'dashboard' }),
    });
    closers.push(() => server.close());
    console.log(server.url);
    const probe = await fetch(`${upstream}/healthz`, { signal: AbortSignal.timeout(5_000) }).catch((err: Error) => err);
    if (probe instanceof Error || !probe.ok)
      log.warn(
        { upstream, err: probe instanceof Error ? probe.message : `answered ${probe.status}` },
        'no pipeline answers there yet: status and charts stay empty until one does',
      );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  } finally {
    for (const c of closers.reverse()) await c().catch(() => {});
  }
}
