/**
 * The observe server: /metrics (Prometheus text), /healthz (the process is up), /readyz (the
 * pipeline runs, its parts answer and it is not stalled; the reasons in JSON when not), the JSON
 * API under /api the dashboard and `sluice status` read, and the dashboard itself at / (assets
 * under /ui/). It runs whether or not the capture API is configured, so every pipeline can be
 * scraped; the capture API's server mounts /metrics too.
 *
 * Reading is open to whoever reaches the bound address (127.0.0.1 by default); every request that
 * changes something (replay, skip, start a reconcile) needs `Authorization: Bearer <observe.token>`
 * and is refused with 401 otherwise, before anything runs. Without observe.token those requests
 * are refused too: a dashboard nobody secured must not replay changes for whoever finds it.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { SluiceError } from '../core/errors.js';
import type { PipelineMetrics } from './metrics.js';
import type { Controls } from './controls.js';
import { pipelineStatus, type PipelineState } from './status.js';

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

interface Log {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export function mountMetrics(app: FastifyInstance, metrics: PipelineMetrics): void {
  app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
}

const CHECK_TIMEOUT_MS = 2_000;
/** /readyz probes the databases at most this often; a scraper polling every second costs no more. */
const CHECK_CACHE_MS = 2_000;

/** The dashboard's files: a fixed list, so no request path ever reaches the file system. */
const UI_FILES: Record<string, { file: string; type: string; vendor?: boolean }> = {
  'index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  'style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  'uPlot.iife.min.js': { file: 'uPlot.iife.min.js', type: 'text/javascript; charset=utf-8', vendor: true },
  'uPlot.min.css': { file: 'uPlot.min.css', type: 'text/css; charset=utf-8', vendor: true },
};

async function uiFile(name: string): Promise<Buffer | undefined> {
  const f = UI_FILES[name];
  if (!f) return undefined;
  // Built: dist/observe/ui (vendor files copied there by the build). From source: src/observe/ui,
  // and uPlot straight from node_modules.
  const local = fileURLToPath(new URL(`./ui/${f.vendor ? 'vendor/' : ''}${f.file}`, import.meta.url));
  try {
    return await readFile(local);
  } catch {
    if (!f.vendor) return undefined;
    try {
      return await readFile(createRequire(import.meta.url).resolve(`uplot/dist/${f.file}`));
    } catch {
      return undefined;
    }
  }
}

function sameToken(given: string, expected: string): boolean {
  // Hashes first: equal lengths for timingSafeEqual, and no early exit that leaks the length.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));

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

  const auth = async (req: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    if (!cfg.token) {
      await reply.code(401).send({ error: 'observe.token is not set: state-changing requests are disabled', configPath: 'observe.token' });
      return false;
    }
    const h = req.headers.authorization ?? '';
    const m = /^Bearer (.+)$/.exec(h);
    if (!m || !sameToken(m[1]!, cfg.token)) {
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'a valid bearer token (observe.token) is required' });
      return false;
    }
    return true;
  };

  const send = (reply: FastifyReply, code: number, v: unknown) => reply.code(code).type('application/json; charset=utf-8').send(json(v));
  const need = <K extends keyof Controls>(reply: FastifyReply, k: K): NonNullable<Controls[K]> | undefined => {
    const c = controls?.[k];
    if (!c) void send(reply, 404, { error: `${String(k)} is not available in this pipeline` });
    return (c ?? undefined) as NonNullable<Controls[K]> | undefined;
  };
  const idOf = (req: FastifyRequest): number | undefined => {
    const id = Number((req.params as { id?: string }).id);
    return Number.isSafeInteger(id) && id > 0 ? id : undefined;
  };
  const failed = (reply: FastifyReply, err: unknown) => {
    const e = err as { code?: string; message?: string };
    return send(reply, err instanceof SluiceError ? 409 : 500, { error: e.message ?? String(err), code: e.code });
  };

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const r = await currentReadiness();
    return reply.code(r.ready ? 200 : 503).send(r.ready ? { status: 'ready' } : { status: 'not ready', reasons: r.reasons });
  });

  app.get('/api/status', async (_req, reply) => {
    const r = await currentReadiness();
    return send(
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
    return send(reply, 200, metrics.sources.tracker?.historySince(Number.isFinite(since) ? since : 0) ?? []);
  });
  app.post('/api/auth', async (req, reply) => {
    if (!(await auth(req, reply))) return reply;
    return send(reply, 200, { ok: true });
  });

  app.get('/api/dead-letters', async (req, reply) => {
    const dl = need(reply, 'deadLetters');
    if (!dl) return reply;
    const q = req.query as { status?: string; table?: string; limit?: string };
    const limit = Math.min(Math.max(Number(q.limit ?? 100) || 100, 1), 1000);
    try {
      return send(reply, 200, await dl.list({ ...(q.status ? { status: q.status } : {}), ...(q.table ? { table: q.table } : {}), limit }));
    } catch (err) {
      return failed(reply, err);
    }
  });
  app.get('/api/dead-letters/:id', async (req, reply) => {
    const dl = need(reply, 'deadLetters');
    if (!dl) return reply;
    const id = idOf(req);
    const d = id === undefined ? undefined : await dl.show(id).catch((err: unknown) => err as Error);
    if (d instanceof Error) return failed(reply, d);
    return d ? send(reply, 200, d) : send(reply, 404, { error: `no dead letter ${String((req.params as { id: string }).id)}` });
  });
  for (const action of ['replay', 'skip'] as const) {
    app.post(`/api/dead-letters/:id/${action}`, async (req, reply) => {
      if (!(await auth(req, reply))) return reply;
      const dl = need(reply, 'deadLetters');
      if (!dl) return reply;
      const id = idOf(req);
      if (id === undefined) return send(reply, 400, { error: 'a dead-letter id is a whole number' });
      try {
        const res = await dl[action](id);
        log.info({ deadLetter: id, action, released: res.released, open: res.open?.id }, `dead letter ${action} from the dashboard`);
        return send(reply, 200, res);
      } catch (err) {
        return failed(reply, err);
      }
    });
  }

  app.get('/api/reconcile', async (_req, reply) => {
    const rc = need(reply, 'reconcile');
    if (!rc) return reply;
    return send(reply, 200, rc.state());
  });
  app.post('/api/reconcile', async (req, reply) => {
    if (!(await auth(req, reply))) return reply;
    const rc = need(reply, 'reconcile');
    if (!rc) return reply;
    const repair = (req.body as { repair?: unknown } | undefined)?.repair === true;
    const started = rc.start({ repair });
    if (started) log.info({ repair }, 'reconcile started from the dashboard');
    return send(
      reply,
      started ? 202 : 409,
      started ? { started: true, repair } : { started: false, error: 'a reconcile is already running' },
    );
  });
  app.get('/api/reconcile/reports', async (req, reply) => {
    const rc = need(reply, 'reconcile');
    if (!rc) return reply;
    const limit = Math.min(Math.max(Number((req.query as { limit?: string }).limit ?? 20) || 20, 1), 100);
    try {
      return send(reply, 200, await rc.reports(limit));
    } catch (err) {
      return failed(reply, err);
    }
  });
  app.get('/api/reconcile/reports/:id', async (req, reply) => {
    const rc = need(reply, 'reconcile');
    if (!rc) return reply;
    const id = idOf(req);
    const r = id === undefined ? undefined : await rc.report(id).catch((err: unknown) => err as Error);
    if (r instanceof Error) return failed(reply, r);
    return r ? send(reply, 200, r) : send(reply, 404, { error: 'no such report' });
  });

  app.get('/api/subjects', async (_req, reply) => {
    const reg = need(reply, 'registry');
    if (!reg) return reply;
    try {
      return send(reply, 200, await reg.subjects());
    } catch (err) {
      return failed(reply, err);
    }
  });
  app.get('/api/subjects/:subject/versions/:version', async (req, reply) => {
    const reg = need(reply, 'registry');
    if (!reg) return reply;
    const p = req.params as { subject: string; version: string };
    const v = Number(p.version);
    if (!Number.isSafeInteger(v) || v < 1) return send(reply, 400, { error: 'a version is a whole number ≥ 1' });
    try {
      return send(reply, 200, await reg.schema(p.subject, v));
    } catch (err) {
      return failed(reply, err);
    }
  });

  const page = async (name: string, reply: FastifyReply) => {
    const body = await uiFile(name);
    if (!body) return reply.code(404).send({ error: 'not found' });
    // Same-origin only: the page loads nothing from elsewhere (no CDN; works offline).
    return reply
      .type(UI_FILES[name]!.type)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:")
      .send(body);
  };
  app.get('/', async (_req, reply) => page('index.html', reply));
  app.get('/ui/:file', async (req, reply) => page((req.params as { file: string }).file, reply));

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
