/**
 * The capture HTTP API as a fastify instance. A request is answered only after `accept` resolved
 * (the changes are durable) or failed (none of them were kept), so a 200 is proof and an error
 * means "send again or give up", never "some of it". 202: all of them were kept, and the transport
 * has not acknowledged them yet (do not send them again).
 */
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { SluiceError } from '../../core/errors.js';
import { createAuthenticator } from '../../registry/http/auth.js';
import { parseChanges, TableCatalog } from './changes.js';
import { roundedNumberPaths } from './json-numbers.js';
import type { CaptureApi, CaptureApiOptions, ErrorAnswer, ErrorAnswerCode } from './types.js';
import { listenUrl } from '../../core/listen-url.js';

/** As the config's `api.bodyLimit` default. */
export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;
export const AUTH_REALM = 'sluice-capture';

/** Paths of JSON number literals JSON.parse rounded, per parsed body (see json-numbers.ts). */
const roundedIn = new WeakMap<object, Set<string>>();

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: the route answers without the bearer token (health probes). Default: token required. */
    auth?: boolean;
  }
}

class AnswerError extends Error {
  constructor(
    readonly status: number,
    readonly answer: ErrorAnswer,
  ) {
    super(answer.message);
  }
}

const answer = (status: number, error_code: ErrorAnswerCode, message: string, retriable = false): AnswerError =>
  new AnswerError(status, { error_code, message, retriable });

export function createCaptureApi(opts: CaptureApiOptions): CaptureApi {
  if (opts.token !== undefined && opts.token.trim() === '') {
    throw new SluiceError('SLUICE_ERR_CONFIG', 'api.token is empty: set a token or leave the key out', {
      context: { configPath: 'api.token' },
    });
  }
  const catalog = new TableCatalog(opts.tables);
  const common = {
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    routerOptions: { ignoreTrailingSlash: true },
    // One line per request is noise at thousands of requests a second; failures are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  };
  const app: FastifyInstance = opts.logger
    ? (Fastify({ ...common, loggerInstance: opts.logger as FastifyBaseLogger }) as unknown as FastifyInstance)
    : Fastify({ ...common, logger: false });

  // JSON only: a form or text/plain POST (which a browser sends cross-site without a preflight) is 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(/^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i, { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '')
      return done(answer(400, 'invalid_json', 'The request body is empty: send a change or {"changes": [...]}'), undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return done(answer(400, 'invalid_json', `The request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
    if (parsed !== null && typeof parsed === 'object') {
      const rounded = roundedNumberPaths(text);
      if (rounded) roundedIn.set(parsed, rounded);
    }
    return done(null, parsed);
  });

  const auth = opts.token === undefined ? undefined : createAuthenticator({ bearerTokens: [opts.token] });
  if (auth) {
    app.addHook('onRequest', async (req, reply) => {
      if (req.routeOptions.config?.auth === false || auth.check(req.headers.authorization)) return undefined;
      reply.header('www-authenticate', `Bearer realm="${AUTH_REALM}"`);
      return reply
        .code(401)
        .send({ error_code: 'unauthorized', message: 'Missing or wrong bearer token', retriable: false } satisfies ErrorAnswer);
    });
  }

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = toAnswer(err);
    if (status >= 500 && !(err instanceof AnswerError))
      req.log.error({ err, method: req.method, url: req.url }, 'capture API request failed');
    if (body.retriable) reply.header('retry-after', '1');
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({
      error_code: 'not_found',
      message: `No route ${req.method} ${req.url.split('?')[0]}`,
      retriable: false,
    } satisfies ErrorAnswer),
  );

  app.get('/healthz', { config: { auth: false } }, async () => ({ status: 'ok' }));

  app.post('/v1/changes', async (req, reply) => {
    const body = req.body;
    const parsed = parseChanges(body, catalog, body !== null && typeof body === 'object' ? roundedIn.get(body) : undefined);
    if (!parsed.ok) {
      const shown = parsed.problems.length;
      const message =
        parsed.invalidChanges === 0
          ? 'The request body is not a change or {"changes": [...]}; nothing was accepted'
          : `${parsed.invalidChanges} change${parsed.invalidChanges === 1 ? ' is' : 's are'} invalid; nothing was accepted${shown >= 100 ? ` (first ${shown} problems listed)` : ''}`;
      req.log.debug({ invalid: parsed.invalidChanges, first: parsed.problems[0] }, 'capture API refused a request');
      return reply
        .code(400)
        .send({ error_code: 'invalid_changes', message, retriable: false, items: parsed.problems } satisfies ErrorAnswer);
    }
    if (parsed.changes.length > 0) {
      let outcome: void | { published: false };
      try {
        outcome = await opts.accept(parsed.changes);
      } catch (err) {
        throw acceptFailure(err, parsed.changes.length, req);
      }
      if (outcome?.published === false) {
        // Kept: a resend would store the changes a second time, after any newer change of the row.
        return reply.code(202).send({
          accepted: parsed.changes.length,
          published: false,
          message:
            'The changes are stored durably and will be published; the broker has not acknowledged them yet. Do not send them again.',
        });
      }
    }
    return { accepted: parsed.changes.length };
  });

  return {
    app,
    listen: (port: number, host = '127.0.0.1') => listenUrl(app, port, host),
    close: () => app.close(),
  };
}

/**
 * `accept` failed, so nothing of the batch was kept (its contract): 503 + Retry-After when sending
 * again may help, 500 for a SluiceError that says it will not (or a programming error). The cause is
 * logged, and only a SluiceError's own message (written for people) reaches the client.
 */
function acceptFailure(err: unknown, count: number, req: FastifyRequest): AnswerError {
  const retriable = err instanceof SluiceError ? err.retriable : !(err instanceof TypeError || err instanceof RangeError);
  req.log[retriable ? 'warn' : 'error']({ err, changes: count }, 'capture API: accept failed; nothing of the batch was accepted');
  const why = err instanceof SluiceError ? `: ${err.message}` : '';
  return retriable
    ? answer(503, 'unavailable', `The changes could not be made durable${why}; nothing was accepted, send them again`, true)
    : answer(500, 'internal', `The changes could not be made durable${why}; nothing was accepted`);
}

function toAnswer(err: unknown): { status: number; body: ErrorAnswer } {
  if (err instanceof AnswerError) return { status: err.status, body: err.answer };
  const fe = err as Partial<FastifyError> | null;
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413)
    return {
      status: 413,
      body: {
        error_code: 'body_too_large',
        message: 'The request body is larger than the API accepts; send fewer changes per request',
        retriable: false,
      },
    };
  if (fe?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415)
    return { status: 415, body: { error_code: 'unsupported_media_type', message: 'Send the body as application/json', retriable: false } };
  // fastify's own 4xx (bad content-length, malformed URL…): its message names the problem, no internals.
  if (status >= 400 && status < 500)
    return { status, body: { error_code: 'bad_request', message: String(fe?.message ?? 'Bad request'), retriable: false } };
  if (status === 503) return { status, body: { error_code: 'unavailable', message: 'Service unavailable', retriable: true } };
  return { status: 500, body: { error_code: 'internal', message: 'Internal server error', retriable: false } };
}
