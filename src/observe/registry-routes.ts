/** /api/subjects: the registry's subjects, a version's schema, and the diff between two versions. */
import type { FastifyInstance } from 'fastify';
import type { RouteKit } from './http.js';
import { schemaDiff } from './schema-diff.js';

const version = (v: unknown): number | undefined => {
  const n = Number(v);
  return typeof v === 'string' && v !== '' && Number.isSafeInteger(n) && n >= 1 ? n : undefined;
};

export function mountRegistryRoutes(app: FastifyInstance, k: RouteKit): void {
  app.get('/api/subjects', async (_req, reply) => {
    const reg = k.need(reply, 'registry');
    if (!reg) return reply;
    try {
      return k.send(reply, 200, await reg.subjects());
    } catch (err) {
      return k.failed(reply, err);
    }
  });
  app.get('/api/subjects/:subject/versions/:version', async (req, reply) => {
    const reg = k.need(reply, 'registry');
    if (!reg) return reply;
    const p = req.params as { subject: string; version: string };
    const v = version(p.version);
    if (v === undefined) return k.send(reply, 400, { error: 'a version is a whole number ≥ 1', field: 'version' });
    try {
      return k.send(reply, 200, await reg.schema(p.subject, v));
    } catch (err) {
      return k.failed(reply, err);
    }
  });
  app.get('/api/subjects/:subject/diff', async (req, reply) => {
    const reg = k.need(reply, 'registry');
    if (!reg) return reply;
    const subject = (req.params as { subject: string }).subject;
    const q = req.query as { from?: string; to?: string };
    const from = version(q.from);
    const to = version(q.to);
    if (from === undefined) return k.send(reply, 400, { error: 'from: a version is a whole number ≥ 1', field: 'from' });
    if (to === undefined) return k.send(reply, 400, { error: 'to: a version is a whole number ≥ 1', field: 'to' });
    try {
      const [a, b] = (await Promise.all([reg.schema(subject, from), reg.schema(subject, to)])) as Array<{ id?: number; schema?: string }>;
      return k.send(reply, 200, {
        subject,
        from: { version: from, id: a?.id ?? null },
        to: { version: to, id: b?.id ?? null },
        ...schemaDiff(a?.schema ?? '', b?.schema ?? ''),
      });
    } catch (err) {
      return k.failed(reply, err);
    }
  });
}
