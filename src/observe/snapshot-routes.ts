/**
 * /api/snapshots: the initial and incremental snapshots with their progress, and (with the token)
 * a new incremental snapshot and the pause, resume and cancel of one. The running source reads
 * the requests from the state store between chunks, so each answer is what was asked, not yet done.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { SnapshotStateError, type Controls } from './controls.js';
import type { RouteKit } from './http.js';

const MAX_WHERE = 10_000;

export function mountSnapshotRoutes(app: FastifyInstance, k: RouteKit): void {
  const tableOf = (reply: FastifyReply, sn: NonNullable<Controls['snapshots']>, given: unknown): string | undefined => {
    if (typeof given !== 'string' || given.trim() === '') {
      void k.send(reply, 400, { error: 'table: a source table name (schema.table) is required', field: 'table' });
      return undefined;
    }
    const name = sn.tableNamed(given.trim());
    if (!name) void k.send(reply, 400, { error: `table: ${given} is not one of source.tables (${sn.tables.join(', ')})`, field: 'table' });
    return name;
  };
  const answer = async (reply: FastifyReply, run: () => Promise<unknown>, code = 200) => {
    try {
      return k.send(reply, code, await run());
    } catch (err) {
      if (err instanceof SnapshotStateError) return k.send(reply, 409, { error: err.message });
      return k.failed(reply, err);
    }
  };

  app.get('/api/snapshots', async (_req, reply) => {
    const sn = k.need(reply, 'snapshots');
    if (!sn) return reply;
    return answer(reply, async () => ({ tables: sn.tables, snapshots: await sn.list() }));
  });

  app.post('/api/snapshots', async (req, reply) => {
    if (!(await k.auth(req, reply))) return reply;
    const sn = k.need(reply, 'snapshots');
    if (!sn) return reply;
    const body = (req.body ?? {}) as { table?: unknown; where?: unknown };
    const table = tableOf(reply, sn, body.table);
    if (!table) return reply;
    const where = body.where;
    if (where !== undefined && where !== null && (typeof where !== 'string' || where.length > MAX_WHERE))
      return k.send(reply, 400, { error: `where: a SQL condition (text up to ${MAX_WHERE} characters), or absent`, field: 'where' });
    const condition = typeof where === 'string' && where.trim() !== '' ? where.trim() : undefined;
    return answer(
      reply,
      async () => {
        const item = await sn.start(table, condition);
        k.log.info({ table, where: condition }, 'incremental snapshot requested from the dashboard');
        return item;
      },
      202,
    );
  });

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    app.post(`/api/snapshots/:table/${action}`, async (req, reply) => {
      if (!(await k.auth(req, reply))) return reply;
      const sn = k.need(reply, 'snapshots');
      if (!sn) return reply;
      const table = tableOf(reply, sn, (req.params as { table: string }).table);
      if (!table) return reply;
      return answer(
        reply,
        async () => {
          const item = await sn[action](table);
          k.log.info({ table, action }, `incremental snapshot ${action} from the dashboard`);
          return item;
        },
        202,
      );
    });
  }
}
