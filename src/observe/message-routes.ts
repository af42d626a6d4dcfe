/** /api/messages: the latest records of a topic, a table or one key, decoded, beside the target's row. */
import type { FastifyInstance } from 'fastify';
import type { RouteKit } from './http.js';
import { QueryError } from './controls.js';

export const MAX_MESSAGES = 200;

/** Message reads at once: each joins a consumer group and scans up to 20,000 records. */
export const MAX_READS = 2;

/**
 * A key as typed in a query string: a JSON object (`{"id":42}`) or JSON string (`"a b"`), else the
 * text itself, so `42` stays exact for a bigint column and is still text for a text one.
 */
function keyParam(text: string): unknown {
  if (!/^\s*[{"]/.test(text)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function mountMessageRoutes(app: FastifyInstance, k: RouteKit): void {
  let reading = 0;
  app.get('/api/topics', async (_req, reply) => {
    const m = k.need(reply, 'messages');
    if (!m) return reply;
    return k.send(reply, 200, m.topics);
  });
  app.get('/api/messages', async (req, reply) => {
    const m = k.need(reply, 'messages');
    if (!m) return reply;
    if (reading >= MAX_READS)
      return k.send(reply, 429, { error: `${MAX_READS} message reads are running: try again when one has answered` });
    const q = req.query as { topic?: string; table?: string; key?: string; limit?: string };
    const limit = q.limit === undefined || q.limit === '' ? 20 : Number(q.limit);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_MESSAGES)
      return k.send(reply, 400, { error: `limit: a whole number from 1 to ${MAX_MESSAGES}`, field: 'limit' });
    reading++;
    try {
      return k.send(
        reply,
        200,
        await m.latest({
          limit,
          ...(q.topic ? { topic: q.topic } : {}),
          ...(q.table ? { table: q.table } : {}),
          ...(q.key !== undefined && q.key !== '' ? { key: keyParam(q.key) } : {}),
        }),
      );
    } catch (err) {
      if (err instanceof QueryError) return k.send(reply, 400, { error: err.message, field: err.field });
      return k.failed(reply, err);
    } finally {
      reading--;
    }
  });
}
