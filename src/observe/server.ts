/**
 * The observe server: /metrics (Prometheus text), /healthz (the process is up) and /readyz (the
 * pipeline runs and has not failed; the reason in JSON when not). It runs whether or not the
 * capture API is configured, so every pipeline can be scraped; the capture API's server mounts
 * /metrics too.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { SluiceError } from '../core/errors.js';
import type { PipelineMetrics } from './metrics.js';

export interface ObserveConfig {
  readonly enabled: boolean;
  /** Absent: the default port, or any free port when that one is taken (with a warning). */
  readonly port?: number | undefined;
  readonly host: string;
}

export const DEFAULT_OBSERVE_PORT = 9464;

export interface Readiness {
  ready: boolean;
  reasons: string[];
}

export interface ObserveServer {
  readonly url: string;
  /** What /readyz answers; the pipeline sets it as it starts, fails or stops. */
  setReadiness(r: Readiness): void;
  close(): Promise<void>;
}

interface Log { warn(obj: object, msg: string): void; info(obj: object, msg: string): void }

export function mountMetrics(app: FastifyInstance, metrics: PipelineMetrics): void {
  app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
}

export async function startObserveServer(cfg: ObserveConfig, metrics: PipelineMetrics, log: Log): Promise<ObserveServer | undefined> {
  if (!cfg.enabled) return undefined;
  let readiness: Readiness = { ready: false, reasons: ['starting'] };
  const app = Fastify({ logger: false });
  mountMetrics(app, metrics);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => reply.code(readiness.ready ? 200 : 503).send(readiness.ready ? { status: 'ready' } : { status: 'not ready', reasons: readiness.reasons }));
  let url: string;
  try {
    url = await app.listen({ port: cfg.port ?? DEFAULT_OBSERVE_PORT, host: cfg.host });
  } catch (err) {
    if ((err as { code?: string }).code !== 'EADDRINUSE' || cfg.port !== undefined) {
      await app.close();
      throw new SluiceError('SLUICE_ERR_CONFIG', `observe.port: cannot listen on ${cfg.host}:${cfg.port ?? DEFAULT_OBSERVE_PORT}: ${(err as Error).message}`, { cause: err, context: { configPath: 'observe.port' } });
    }
    // Another pipeline on this host has the default port: any free one, said out loud.
    url = await app.listen({ port: 0, host: cfg.host });
    log.warn({ url }, `port ${DEFAULT_OBSERVE_PORT} is taken: metrics and health are served on another port (set observe.port to choose)`);
  }
  return { url, setReadiness: (r) => { readiness = r; }, close: () => app.close() };
}
