/**
 * What every route of the observe servers shares: JSON answers (bigint as text), the bearer-token
 * check of state-changing requests, and the answer when the pipeline lacks a control.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SluiceError } from '../core/errors.js';
import type { Controls } from './controls.js';

export interface Log {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface RouteKit {
  readonly log: Log;
  send(reply: FastifyReply, code: number, v: unknown): FastifyReply;
  /** False (and 401 answered) unless the request carries the observe token. */
  auth(req: FastifyRequest, reply: FastifyReply): Promise<boolean>;
  /** The control, or undefined with 404 answered when this pipeline has none. */
  need<K extends keyof Controls>(reply: FastifyReply, k: K): NonNullable<Controls[K]> | undefined;
  /** 409 for a SluiceError (a state or config the user can change), 500 otherwise. */
  failed(reply: FastifyReply, err: unknown): FastifyReply;
  /** The `:id` parameter as a whole number ≥ 1. */
  idOf(req: FastifyRequest): number | undefined;
}

function sameToken(given: string, expected: string): boolean {
  // Hashes first: equal lengths for timingSafeEqual, and no early exit that leaks the length.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));

export function routeKit(o: { token: string | undefined; log: Log; controls: () => Controls | undefined }): RouteKit {
  const send = (reply: FastifyReply, code: number, v: unknown) => reply.code(code).type('application/json; charset=utf-8').send(json(v));
  return {
    log: o.log,
    send,
    auth: async (req, reply) => {
      if (!o.token) {
        await reply
          .code(401)
          .send({ error: 'observe.token is not set: state-changing requests are disabled', configPath: 'observe.token' });
        return false;
      }
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      if (!m || !sameToken(m[1]!, o.token)) {
        await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'a valid bearer token (observe.token) is required' });
        return false;
      }
      return true;
    },
    need: (reply, k) => {
      const c = o.controls()?.[k];
      if (!c) void send(reply, 404, { error: `${String(k)} is not available in this pipeline` });
      return (c ?? undefined) as never;
    },
    failed: (reply, err) => {
      const e = err as { code?: string; message?: string };
      return send(reply, err instanceof SluiceError ? 409 : 500, { error: e.message ?? String(err), code: e.code });
    },
    idOf: (req) => {
      const id = Number((req.params as { id?: string }).id);
      return Number.isSafeInteger(id) && id > 0 ? id : undefined;
    },
  };
}
