/**
 * The dashboard served apart from the pipeline (`sluice dashboard`): dead letters, reconcile and
 * snapshots through Controls built in this process from the state store and the databases, and
 * what only the running pipeline knows (its status, history, metrics, readiness) passed through
 * from its observe server. State-changing requests need the same observe token.
 */
import Fastify, { type FastifyReply } from 'fastify';
import type { Controls } from './controls.js';
import { routeKit, type Log } from './http.js';
import { mountControlRoutes } from './control-routes.js';
import { mountUi } from './ui-files.js';
import { featuresOf } from './status.js';

export interface DashboardServerOptions {
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  readonly token?: string | undefined;
  /** The running pipeline's observe server, e.g. http://127.0.0.1:9464. */
  readonly upstream: string;
  readonly controls: Controls;
  readonly log: Log;
}

export interface DashboardServer {
  readonly url: string;
  close(): Promise<void>;
}

const UPSTREAM_TIMEOUT_MS = 5_000;

export async function startDashboardServer(o: DashboardServerOptions): Promise<DashboardServer> {
  const upstream = o.upstream.replace(/\/$/, '');
  const app = Fastify({ logger: false });
  const kit = routeKit({ token: o.token, log: o.log, controls: () => o.controls });

  const pass = async (path: string): Promise<Response | { error: string }> => {
    try {
      return await fetch(`${upstream}${path}`, { signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS) });
    } catch (err) {
      return { error: `no pipeline answers at ${upstream} (${(err as Error).message}); is sluice run going with this config?` };
    }
  };
  const relay =
    (path: (query: string) => string, rewrite?: (body: Record<string, unknown>) => Record<string, unknown>) =>
    async (req: { url: string }, reply: FastifyReply) => {
      const q = req.url.indexOf('?');
      const res = await pass(path(q >= 0 ? req.url.slice(q) : ''));
      if ('error' in res) return kit.send(reply, 502, { error: res.error });
      const type = res.headers.get('content-type') ?? 'application/octet-stream';
      if (rewrite && res.ok && type.startsWith('application/json'))
        return kit.send(reply, res.status, rewrite((await res.json()) as Record<string, unknown>));
      return reply
        .code(res.status)
        .type(type)
        .send(Buffer.from(await res.arrayBuffer()));
    };

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get(
    '/readyz',
    relay(() => '/readyz'),
  );
  app.get(
    '/metrics',
    relay(() => '/metrics'),
  );
  app.get(
    '/api/history',
    relay((q) => `/api/history${q}`),
  );
  // What this server can do is its own: its token and its controls, not the pipeline's.
  app.get(
    '/api/status',
    relay(
      () => '/api/status',
      (s) => ({ ...s, tokenConfigured: o.token !== undefined, features: featuresOf(o.controls) }),
    ),
  );
  mountControlRoutes(app, kit);
  mountUi(app);

  const url = await app.listen({ port: o.port, host: o.host });
  return { url, close: () => app.close() };
}
