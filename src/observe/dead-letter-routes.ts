/** /api/dead-letters: list, show, and (with the token) replay or skip, through the pipeline's sink. */
import type { FastifyInstance } from 'fastify';
import type { RouteKit } from './http.js';

export function mountDeadLetterRoutes(app: FastifyInstance, k: RouteKit): void {
  app.get('/api/dead-letters', async (req, reply) => {
    const dl = k.need(reply, 'deadLetters');
    if (!dl) return reply;
    const q = req.query as { status?: string; table?: string; limit?: string };
    const limit = Math.min(Math.max(Number(q.limit ?? 100) || 100, 1), 1000);
    try {
      return k.send(
        reply,
        200,
        await dl.list({ ...(q.status ? { status: q.status } : {}), ...(q.table ? { table: q.table } : {}), limit }),
      );
    } catch (err) {
      return k.failed(reply, err);
    }
  });
  app.get('/api/dead-letters/:id', async (req, reply) => {
    const dl = k.need(reply, 'deadLetters');
    if (!dl) return reply;
    const id = k.idOf(req);
    const d = id === undefined ? undefined : await dl.show(id).catch((err: unknown) => err as Error);
    if (d instanceof Error) return k.failed(reply, d);
    return d ? k.send(reply, 200, d) : k.send(reply, 404, { error: `no dead letter ${String((req.params as { id: string }).id)}` });
  });
  for (const action of ['replay', 'skip'] as const) {
    app.post(`/api/dead-letters/:id/${action}`, async (req, reply) => {
      if (!(await k.auth(req, reply))) return reply;
      const dl = k.need(reply, 'deadLetters');
      if (!dl) return reply;
      const id = k.idOf(req);
      if (id === undefined) return k.send(reply, 400, { error: 'a dead-letter id is a whole number', field: 'id' });
      try {
        const res = await dl[action](id);
        k.log.info({ deadLetter: id, action, released: res.released, open: res.open?.id }, `dead letter ${action} from the dashboard`);
        return k.send(reply, 200, res);
      } catch (err) {
        return k.failed(reply, err);
      }
    });
  }
}
