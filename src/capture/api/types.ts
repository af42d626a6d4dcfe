/** The capture HTTP API's types: what `accept` receives, the options, the server handle, the answers. */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Row, TableSchema } from '../../core/table-schema.js';

/** One validated change, its values already portable (core/table-schema.ts). */
export interface CapturedChange {
  /** The entry of `tables` the change names. */
  table: TableSchema;
  op: 'c' | 'u' | 'd';
  /** The primary-key columns (from `key`, or from the row when no key was sent). */
  key: Row;
  /** The full row image after the change, every column present; absent for deletes. */
  row?: Row;
  /** Free text from the producer, e.g. the use case that made the change. */
  context?: string;
}

export interface CaptureApiOptions {
  /** The tables changes may name, by `name` or `schema.name`. */
  tables: readonly TableSchema[];
  /**
   * Makes a batch durable (outbox row committed, Kafka acked) and resolves only then. All or
   * nothing: when it rejects, none of the batch may have been kept. Called once per request, with
   * the changes in request order; concurrent requests call it concurrently. Resolving to
   * `{ published: false }` means stored durably but not yet acknowledged by the transport in time:
   * answered 202 (kept, published later; sending again would store them twice).
   */
  accept: (changes: CapturedChange[]) => Promise<void | { published: false }>;
  /** Bearer token every request except GET /healthz must carry; omitted: no authentication. */
  token?: string;
  /** Largest request body in bytes (default 8 MiB, as the config's api.bodyLimit); larger: 413. */
  bodyLimit?: number;
  /** A pino logger (5xx and refused batches are logged; requests are not), or false / omitted for none. */
  logger?: Logger | false;
}

export interface CaptureApi {
  /** The fastify instance: add routes (metrics, readiness) before `listen`. */
  app: FastifyInstance;
  /** Starts listening; resolves to the base URL (`http://127.0.0.1:8080`). Port 0 picks a free port. */
  listen(port: number, host?: string): Promise<string>;
  /** Stops accepting connections and waits for in-flight requests (and their `accept`) to finish. */
  close(): Promise<void>;
}

/** One problem in a refused request; `index` is null when the body's shape is wrong, not one change. */
export interface ProblemItem {
  index: number | null;
  field: string;
  message: string;
}

/** Every error answer. `retriable` says whether sending the same request again may succeed. */
export interface ErrorAnswer {
  error_code: ErrorAnswerCode;
  message: string;
  retriable: boolean;
  items?: ProblemItem[];
}

export type ErrorAnswerCode =
  | 'invalid_changes'
  | 'invalid_json'
  | 'unsupported_media_type'
  | 'body_too_large'
  | 'unauthorized'
  | 'not_found'
  | 'bad_request'
  | 'unavailable'
  | 'internal';
