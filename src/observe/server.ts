/**
 * The observe server: /metrics (Prometheus text), /healthz (the process is up), /readyz (the
 * pipeline runs, its parts answer and it is not stalled; the reasons in JSON when not), the JSON
 * API under /api the dashboard and `sluice status` read, and the dashboard itself at / (assets
 * under /ui/). It runs whether or not the capture API is configured, so every pipeline can be
 * scraped; the capture API's server mounts /metrics too.
 *
 * Reading is open to whoever reaches the bound address (127.0.0.1 by default); every request that
 * changes something (replay, skip, start a reconcile or a snapshot) needs `Authorization: Bearer <observe.token>`
 * and is refused with 401 otherwise, before anything runs. Without observe.token those requests
 * are refused too: a dashboard nobody secured must not replay changes for whoever finds it.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { SluiceError } from '../core/errors.js';
import type { PipelineMetrics } from './metrics.js';
import type { Controls } from './controls.js';
import { pipelineStatus, type PipelineState } from './status.js';
import { routeKit, type Log } from './http.js';
import { mountControlRoutes } from './control-routes.js';
import { mountUi } from './ui-files.js';

export interface ObserveConfig {
  readonly enabled: boolean;
  /** Absent: the default port, or any free port when that one is taken (with a warning). */
  readonly port?: number | undefined;
  readonly host: string;
  /** Bearer token for state-changing requests; absent: they are refused. */
  readonly token?: string | undefined;
  /** Not ready when changes wait and nothing was applied for this long (seconds). */
  readonly stallSeconds?: number | undefined;
}

export const DEFAULT_OBSERVE_PORT = 9464;

export interface Readiness {
  ready: boolean;
  reasons: string[];
}

export interface ObserveServer {
  readonly url: string;
  /** What /readyz answers (with the checks and the stall test added); the pipeline sets it as it starts, fails or stops. */
  setReadiness(r: Readiness): void;
  /** The pipeline's state as the dashboard shows it. */
  setState(s: PipelineState): void;
  /** The operations and views the dashboard offers (set once the pipeline has assembled them). */
  attach(controls: Controls): void;
  close(): Promise<void>;
}

export function mountMetrics(app: FastifyInstance, metrics: PipelineMetrics): void {
  app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
}

const CHECK_TIMEOUT_MS = 2_000;
/** /readyz probes the databases at most this often; a scraper polling every second costs no more. */
const CHECK_CACHE_MS = 2_000;

export async function startObserveServer(cfg: ObserveConfig, metrics: PipelineMetrics, log: Log): Promise<ObserveServer | undefined> {
  if (!cfg.enabled) return undefined;
  let readiness: Readiness = { ready: false, reasons: ['starting'] };
  let state: PipelineState = 'starting';
  let controls: Controls | undefined;
  let checked: { at: number; reasons: Promise<string[]> } | undefined;
  const app = Fastify({ logger: false });
  mountMetrics(app, metrics);

  const runChecks = (): Promise<string[]> => {
    const now = Date.now();
    if (checked && now - checked.at < CHECK_CACHE_MS) return checked.reasons;
    const checks = controls?.checks ?? [];
    const reasons = Promise.all(
      checks.map(async (c) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            c.check(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
            }),
          ]);
          return undefined;
        } catch (err) {
          return `${c.name} unreachable: ${(err as Error).message}`;
        } finally {
          clearTimeout(timer);
        }
      }),
    ).then((r) => r.filter((x): x is string => x !== undefined));
    checked = { at: now, reasons };
    return reasons;
  };

  const stallReason = (): string | undefined => {
    const t = metrics.sources.tracker;
    const limit = (cfg.stallSeconds ?? 120) * 1000;
    if (!t || limit <= 0) return undefined;
    const waiting = t.tableStatus().reduce((n, s) => n + s.waiting, 0);
    if (waiting === 0) return undefined;
    const since = t.lastApplyAtMs ?? metrics.sources.stats.startedAt ?? Date.now();
    const idle = Date.now() - since;
    return idle > limit ? `stalled: ${waiting} changes wait and nothing was applied for ${Math.round(idle / 1000)} s` : undefined;
  };

  const currentReadiness = async (): Promise<Readiness> => {
    if (!readiness.ready) return readiness;
    const reasons = [...(await runChecks())];
    const stall = stallReason();
    if (stall) reasons.push(stall);
    return { ready: reasons.length === 0, reasons };
  };

  const kit = routeKit({ token: cfg.token, log, controls: () => controls });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const r = await currentReadiness();
    return reply.code(r.ready ? 200 : 503).send(r.ready ? { status: 'ready' } : { status: 'not ready', reasons: r.reasons });
  });

  app.get('/api/status', async (_req, reply) => {
    const r = await currentReadiness();
    return kit.send(
      reply,
      200,
      pipelineStatus(metrics.sources, {
        state,
        readiness: r,
        ...(controls ? { controls } : {}),
        tokenRequired: true,
        tokenConfigured: cfg.token !== undefined,
      }),
    );
  });
  app.get('/api/history', async (req, reply) => {
    const since = Number((req.query as { since?: string }).since ?? 0);
    return kit.send(reply, 200, metrics.sources.tracker?.historySince(Number.isFinite(since) ? since : 0) ?? []);
  });
  mountControlRoutes(app, kit);
  mountUi(app);

  let url: string;
  try {
    url = await app.listen({ port: cfg.port ?? DEFAULT_OBSERVE_PORT, host: cfg.host });
  } catch (err) {
    if ((err as { code?: string }).code !== 'EADDRINUSE' || cfg.port !== undefined) {
      await app.close();
      throw new SluiceError(
        'SLUICE_ERR_CONFIG',
        `observe.port: cannot listen on ${cfg.host}:${cfg.port ?? DEFAULT_OBSERVE_PORT}: ${(err as Error).message}`,
        { cause: err, context: { configPath: 'observe.port' } },
      );
    }
    // Another pipeline on this host has the default port: any free one, said out loud.
    url = await app.listen({ port: 0, host: cfg.host });
    log.warn(
      { url },
      `port ${DEFAULT_OBSERVE_PORT} is taken: metrics, health and the dashboard are served on another port (set observe.port to choose)`,
    );
  }
  return {
    url,
    setReadiness: (r) => {
      readiness = r;
    },
    setState: (s) => {
      state = s;
    },
    attach: (c) => {
      controls = c;
    },
    close: () => app.close(),
  };
}
