/** /api/schema-history: each change of a source table's shape, oldest first, all tables or one (read-only). */
import type { FastifyInstance } from 'fastify';
import type { RouteKit } from './http.js';

export function mountSchemaRoutes(app: FastifyInstance, k: RouteKit): void {
  app.get('/api/schema-history', async (req, reply) => {
    const sh = k.need(reply, 'schemaHistory');
    if (!sh) return reply;
    const given = (req.query as { table?: unknown }).table;
    let table: string | undefined;
    if (given !== undefined) {
      table = typeof given === 'string' ? sh.tableNamed(given.trim()) : undefined;
      if (!table)
        return k.send(reply, 400, {
          error: `table: ${String(given)} is not one of source.tables (${sh.tables.join(', ')})`,
          field: 'table',
        });
    }
    try {
      return k.send(reply, 200, { tables: sh.tables, changes: await sh.list(table) });
    } catch (err) {
      return k.failed(reply, err);
    }
  });
}
