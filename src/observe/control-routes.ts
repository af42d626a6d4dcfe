/** The routes over a pipeline's Controls, mounted by the pipeline's observe server and by `sluice dashboard` alike. */
import type { FastifyInstance } from 'fastify';
import type { RouteKit } from './http.js';
import { mountDeadLetterRoutes } from './dead-letter-routes.js';
import { mountReconcileRoutes } from './reconcile-routes.js';
import { mountRegistryRoutes } from './registry-routes.js';
import { mountSnapshotRoutes } from './snapshot-routes.js';
import { mountSchemaRoutes } from './schema-routes.js';
import { mountMessageRoutes } from './message-routes.js';

export function mountControlRoutes(app: FastifyInstance, k: RouteKit): void {
  // The page checks a token here before the user relies on it.
  app.post('/api/auth', async (req, reply) => {
    if (!(await k.auth(req, reply))) return reply;
    return k.send(reply, 200, { ok: true });
  });
  mountDeadLetterRoutes(app, k);
  mountReconcileRoutes(app, k);
  mountRegistryRoutes(app, k);
  mountSnapshotRoutes(app, k);
  mountSchemaRoutes(app, k);
  mountMessageRoutes(app, k);
}
