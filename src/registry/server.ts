/**
 * A Confluent-compatible Schema Registry server (Avro) over the SQL state store:
 * `createRegistryServer({ store })` → fastify app + listen/close. The caller owns `store` and
 * closes it after `close()`.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { SqlStore } from '../state/index.js';
import type { RegistryAuthOptions } from './http/auth.js';
import { buildRegistryApp } from './http/app.js';
import { RegistryStore } from './store/registry-store.js';
import { listenUrl } from '../core/listen-url.js';

export interface RegistryServerOptions {
  store: SqlStore;
  auth?: RegistryAuthOptions;
  /** Largest request body in bytes (default 16 MiB). */
  bodyLimit?: number;
  /** A pino(-compatible) logger, or false for none. */
  logger?: FastifyBaseLogger | false;
}

export interface RegistryServer {
  app: FastifyInstance;
  registry: RegistryStore;
  /** Starts listening; resolves to the base URL (`http://host:port`). Port 0 picks a free port. */
  listen(port: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

export function createRegistryServer(opts: RegistryServerOptions): RegistryServer {
  const registry = new RegistryStore(opts.store);
  const app = buildRegistryApp({
    registry,
    ...(opts.auth === undefined ? {} : { auth: opts.auth }),
    ...(opts.bodyLimit === undefined ? {} : { bodyLimit: opts.bodyLimit }),
    ...(opts.logger === undefined ? {} : { logger: opts.logger }),
  });
  return {
    app,
    registry,
    listen: (port: number, host = '127.0.0.1') => listenUrl(app, port, host),
    close: () => app.close(),
  };
}
