/** /api/reconcile: the run in progress, (with the token) a new run, and the stored reports. */
import type { FastifyInstance } from 'fastify';
import type { RouteKit } from './http.js';

export function mountReconcileRoutes(app: FastifyInstance, k: RouteKit): void {
  app.get('/api/reconcile', async (_req, reply) => {
    const rc = k.need(reply, 'reconcile');
    if (!rc) return reply;
    return k.send(reply, 200, rc.state());
  });
  app.post('/api/reconcile', async (req, reply) => {
    if (!(await k.auth(req, reply))) return reply;
    const rc = k.need(reply, 'reconcile');
    if (!rc) return reply;
    const repair = (req.body as { repair?: unknown } | undefined)?.repair === true;
    const started = rc.start({ repair });
    if (started) k.log.info({ repair }, 'reconcile started from the dashboard');
    return k.send(
      reply,
      started ? 202 : 409,
      started ? { started: true, repair } : { started: false, error: 'a reconcile is already running' },
    );
  });
  app.get('/api/reconcile/reports', async (req, reply) => {
    const rc = k.need(reply, 'reconcile');
    if (!rc) return reply;
    const limit = Math.min(Math.max(Number((req.query as { limit?: string }).limit ?? 20) || 20, 1), 100);
    try {
      return k.send(reply, 200, await rc.reports(limit));
    } catch (err) {
      return k.failed(reply, err);
    }
  });
  app.get('/api/reconcile/reports/:id', async (req, reply) => {
    const rc = k.need(reply, 'reconcile');
    if (!rc) return reply;
    const id = k.idOf(req);
    const r = id === undefined ? undefined : await rc.report(id).catch((err: unknown) => err as Error);
    if (r instanceof Error) return k.failed(reply, r);
    return r ? k.send(reply, 200, r) : k.send(reply, 404, { error: 'no such report' });
  });
}
