/**
 * The Confluent Schema Registry REST API (v1) as a fastify instance: media types, authentication,
 * error shape and routes. The handlers only read requests and shape answers; the rules live in
 * RegistryStore.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { registryErrors as E } from '../store/registry-errors.js';
import type { RegistryStore } from '../store/registry-store.js';
import { createAuthenticator, type RegistryAuthOptions } from './auth.js';
import { configRoutes } from './config-routes.js';
import { toErrorResponse } from './errors.js';
import { REQUEST_MEDIA_TYPES, SCHEMA_REGISTRY_JSON, SCHEMA_REGISTRY_V1_JSON } from './request.js';
import { schemaRoutes } from './schema-routes.js';
import { subjectRoutes } from './subject-routes.js';

export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

export interface RegistryAppOptions {
  registry: RegistryStore;
  auth?: RegistryAuthOptions;
  /** Largest request body in bytes (default 16 MiB); larger ones get 413. */
  bodyLimit?: number;
  /** A pino(-compatible) logger, or false for none. Default: fastify's pino at info level. */
  logger?: FastifyBaseLogger | false;
  /** Reported by GET /v1/metadata/id as the schema-registry cluster id. */
  clusterId?: string;
}

export function buildRegistryApp(opts: RegistryAppOptions): FastifyInstance {
  const common = {
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Subjects are often long (topic + record name) and may hold encoded slashes.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 8192 },
    return503OnClosing: true,
  };
  const app: FastifyInstance =
    opts.logger === false
      ? Fastify({ ...common, logger: false })
      : opts.logger !== undefined
        ? (Fastify({ ...common, loggerInstance: opts.logger }) as unknown as FastifyInstance)
        : Fastify({ ...common, logger: { level: 'info', redact: ['req.headers.authorization'] } });

  // Every accepted media type carries JSON; a body that is not JSON is an invalid request (42201).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(REQUEST_MEDIA_TYPES, { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    try {
      done(null, text.trim() === '' ? undefined : JSON.parse(text));
    } catch (err) {
      done(E.invalidSchema(`Invalid JSON in request body: ${(err as Error).message}`), undefined);
    }
  });

  const auth = createAuthenticator(opts.auth);
  app.addHook('onRequest', async (req, reply) => {
    reply.type(responseType(req));
    if (auth && !auth.check(req.headers.authorization)) {
      reply.header('www-authenticate', auth.challenges);
      reply.code(401);
      return reply.send(JSON.stringify({ error_code: 401, message: 'Unauthorized' }));
    }
    return undefined;
  });

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = toErrorResponse(err);
    if (status >= 500) req.log.error({ err }, 'schema registry request failed');
    reply.code(status).type(responseType(req)).send(JSON.stringify(body));
  });
  app.setNotFoundHandler((req, reply) => {
    reply
      .code(404)
      .type(responseType(req))
      .send(JSON.stringify({ error_code: 404, message: 'HTTP 404 Not Found' }));
  });

  app.get('/', async () => ({}));
  app.post('/', async () => ({}));
  app.get('/v1/metadata/id', async () => ({
    scope: { path: [], clusters: { 'kafka-cluster': '', 'schema-registry-cluster': opts.clusterId ?? 'sluice' } },
  }));
  schemaRoutes(app, opts.registry);
  subjectRoutes(app, opts.registry);
  configRoutes(app, opts.registry);
  return app;
}

/** Answers in the Schema Registry type unless the client only accepts plain JSON. */
function responseType(req: FastifyRequest): string {
  const accept = req.headers.accept ?? '';
  if (accept.includes(SCHEMA_REGISTRY_V1_JSON) || accept === '' || accept.includes('*/*')) return SCHEMA_REGISTRY_V1_JSON;
  if (accept.includes(SCHEMA_REGISTRY_JSON)) return SCHEMA_REGISTRY_JSON;
  if (accept.includes('application/json')) return 'application/json';
  return SCHEMA_REGISTRY_V1_JSON;
}
