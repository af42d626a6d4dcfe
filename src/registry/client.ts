/**
 * A client for any Confluent-compatible schema registry (sluice's own, Confluent Schema Registry,
 * Karapace, Apicurio's ccompat API, Redpanda's): only the REST v1 calls the codec and tools need.
 * Schemas by id are immutable, so they are cached forever; registrations are cached per
 * (subject, schema text). Concurrent requests for the same thing share one HTTP call.
 * Network failures, 5xx and 429 are retried with backoff; 4xx answers are final.
 */
import { SluiceError } from '../core/errors.js';
import { retry } from '../core/retry.js';

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

export interface RegistryClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8081 or http://host:8080/apis/ccompat/v7. */
  url: string;
  auth?: { username: string; password: string } | { token: string };
  timeoutMs?: number;
  retries?: number;
}

export interface RegisteredSchema {
  subject: string;
  id: number;
  version: number;
  schema: string;
  references?: SchemaReference[];
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export class RegistryClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly byId = new Map<number, Promise<string>>();
  private readonly registered = new Map<string, Promise<number>>();

  constructor(opts: RegistryClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.retries = opts.retries ?? 3;
    this.headers = { accept: CONTENT_TYPE, 'content-type': CONTENT_TYPE };
    if (opts.auth && 'token' in opts.auth) this.headers.authorization = `Bearer ${opts.auth.token}`;
    else if (opts.auth)
      this.headers.authorization = `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64')}`;
  }

  /** Registers (or finds) a schema under a subject; returns its id. */
  register(subject: string, schema: string, opts: { references?: SchemaReference[]; normalize?: boolean } = {}): Promise<number> {
    const key = `${subject}\u0000${schema}\u0000${JSON.stringify(opts.references ?? [])}`;
    return memo(this.registered, key, async () => {
      const body: Record<string, unknown> = { schema };
      if (opts.references?.length) body.references = opts.references;
      const res = await this.request<{ id: number }>(
        'POST',
        `/subjects/${enc(subject)}/versions${opts.normalize ? '?normalize=true' : ''}`,
        body,
      );
      return res.id;
    });
  }

  /** The schema text for an id; ids never change meaning, so the answer is cached for good. */
  getSchemaById(id: number): Promise<string> {
    return memo(this.byId, id, async () => (await this.request<{ schema: string }>('GET', `/schemas/ids/${id}`)).schema);
  }

  /** Finds the version of `subject` holding exactly this schema, or undefined. */
  async lookup(
    subject: string,
    schema: string,
    opts: { references?: SchemaReference[]; normalize?: boolean } = {},
  ): Promise<RegisteredSchema | undefined> {
    try {
      const body: Record<string, unknown> = { schema };
      if (opts.references?.length) body.references = opts.references;
      return await this.request<RegisteredSchema>('POST', `/subjects/${enc(subject)}${opts.normalize ? '?normalize=true' : ''}`, body);
    } catch (err) {
      if (err instanceof SluiceError && (err.context.errorCode === 40401 || err.context.errorCode === 40403)) return undefined;
      throw err;
    }
  }

  getVersion(subject: string, version: number | 'latest'): Promise<RegisteredSchema> {
    return this.request<RegisteredSchema>('GET', `/subjects/${enc(subject)}/versions/${version}`);
  }

  listSubjects(): Promise<string[]> {
    return this.request<string[]>('GET', '/subjects');
  }

  listVersions(subject: string): Promise<number[]> {
    return this.request<number[]>('GET', `/subjects/${enc(subject)}/versions`);
  }

  async testCompatibility(
    subject: string,
    schema: string,
    version: number | 'latest' = 'latest',
  ): Promise<{ compatible: boolean; messages: string[] }> {
    const res = await this.request<{ is_compatible: boolean; messages?: string[] }>(
      'POST',
      `/compatibility/subjects/${enc(subject)}/versions/${version}?verbose=true`,
      { schema },
    );
    return { compatible: res.is_compatible, messages: res.messages ?? [] };
  }

  async setCompatibility(level: string, subject?: string): Promise<void> {
    await this.request('PUT', subject ? `/config/${enc(subject)}` : '/config', { compatibility: level });
  }

  private request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return retry(
      async () => {
        let res: Response;
        try {
          res = await fetch(`${this.base}${path}`, {
            method,
            headers: this.headers,
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            signal: AbortSignal.timeout(this.timeoutMs),
          });
        } catch (err) {
          throw new SluiceError(
            'SLUICE_ERR_REGISTRY_UNAVAILABLE',
            `Schema registry ${this.base} unreachable on ${method} ${path}: ${(err as Error).message}`,
            { retriable: true, cause: err },
          );
        }
        const text = await res.text();
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        if (res.ok) return json as T;
        const payload = (json ?? {}) as { error_code?: number; message?: string };
        const retriable = res.status >= 500 || res.status === 429;
        throw new SluiceError(
          'SLUICE_ERR_REGISTRY',
          `Schema registry ${method} ${path} answered ${res.status}${payload.error_code ? ` (${payload.error_code})` : ''}: ${payload.message ?? text.slice(0, 300)}`,
          {
            retriable,
            context: { status: res.status, errorCode: payload.error_code ?? res.status },
          },
        );
      },
      { retries: this.retries },
    );
  }
}

function enc(subject: string): string {
  return encodeURIComponent(subject);
}

/** Shares one in-flight promise per key and keeps successes; a failure is forgotten so it can be retried. */
function memo<K, V>(cache: Map<K, Promise<V>>, key: K, load: () => Promise<V>): Promise<V> {
  let p = cache.get(key);
  if (!p) {
    p = load();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}
