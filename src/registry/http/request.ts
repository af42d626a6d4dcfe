/**
 * Reading what a request says: path parameters, Confluent's query flags and the JSON bodies, each
 * refused with the error code Confluent gives (42202 for a bad version, 42201 for a bad body).
 */
import { z } from 'zod';
import { RegistryError, registryErrors as E } from '../store/registry-errors.js';
import type { SchemaRequest } from '../store/types.js';

/** The media types the API reads and writes (Confluent's Versions.*). */
export const SCHEMA_REGISTRY_V1_JSON = 'application/vnd.schemaregistry.v1+json';
export const SCHEMA_REGISTRY_JSON = 'application/vnd.schemaregistry+json';
export const REQUEST_MEDIA_TYPES = [SCHEMA_REGISTRY_V1_JSON, SCHEMA_REGISTRY_JSON, 'application/json', 'application/octet-stream'];

/** As JAX-RS reads a `boolean` query parameter: "true" in any case is true, anything else false. */
export function flag(query: unknown, name: string): boolean {
  const v = (query as Record<string, unknown> | undefined)?.[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s.toLowerCase() === 'true';
}

export function stringParam(query: unknown, name: string): string | undefined {
  const v = (query as Record<string, unknown> | undefined)?.[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s : undefined;
}

/** Confluent's VersionId: "latest" → -1, else an integer in [1, 2^31-1] (or -1); otherwise 42202. */
export function parseVersion(raw: string): number {
  const s = raw.trim();
  if (s.toLowerCase() === 'latest') return -1;
  if (!/^[+-]?\d{1,10}$/.test(s)) throw E.invalidVersion(raw);
  const n = Number(s);
  if (n > 2147483647 || n < -2147483648 || (n <= 0 && n !== -1)) throw E.invalidVersion(raw);
  return n;
}

/** A schema id path parameter; not an int32 → 404 as JAX-RS answers a path parameter it cannot convert. */
export function parseSchemaId(raw: string): number {
  if (!/^[+-]?\d{1,10}$/.test(raw)) throw new RegistryError(404, 'HTTP 404 Not Found');
  const n = Number(raw);
  if (n > 2147483647 || n < -2147483648) throw new RegistryError(404, 'HTTP 404 Not Found');
  return n;
}

const reference = z.object({
  name: z.string(),
  subject: z.string(),
  version: z.number().int(),
});

const schemaRequest = z.looseObject({
  schema: z.string({ error: '"schema" must be a string holding the schema' }),
  schemaType: z.string().nullish(),
  references: z.array(reference).nullish(),
  id: z.number().int().nullish(),
  version: z.number().int().nullish(),
});

export function parseSchemaRequest(body: unknown): SchemaRequest {
  const r = schemaRequest.safeParse(body);
  if (!r.success) throw E.invalidSchema(`Invalid request body: ${describe(r.error)}`);
  const out: SchemaRequest = { schema: r.data.schema };
  if (r.data.schemaType != null) out.schemaType = r.data.schemaType;
  if (r.data.references != null) out.references = r.data.references;
  if (r.data.id != null) out.id = r.data.id;
  if (r.data.version != null) out.version = r.data.version;
  return out;
}

/** `{"compatibility": "..."}`; undefined when the body does not set it. */
export function parseConfigRequest(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw E.invalidSchema('Invalid request body: expected a JSON object');
  const c = (body as Record<string, unknown>).compatibility;
  if (c === undefined || c === null) return undefined;
  if (typeof c !== 'string') throw E.invalidCompatibility();
  return c;
}

/** `{"mode": "..."}` */
export function parseModeRequest(body: unknown): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw E.invalidSchema('Invalid request body: expected a JSON object');
  const m = (body as Record<string, unknown>).mode;
  if (typeof m !== 'string') throw E.invalidMode();
  return m;
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`).join('; ');
}
