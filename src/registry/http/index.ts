/**
 * The Confluent Schema Registry REST API (v1, Avro only) over fastify.
 * Data flow: request → onRequest (response media type, optional basic/bearer auth) → JSON body
 * parser (four accepted media types, 42201 on bad JSON) → route handler (reads params with
 * request.ts) → RegistryStore → JSON answer; any error → errors.ts → {"error_code", "message"}.
 * Handlers hold no rules: status codes and error codes come from the store's RegistryError.
 */
export { buildRegistryApp, DEFAULT_BODY_LIMIT } from './app.js';
export type { RegistryAppOptions } from './app.js';
export { createAuthenticator, AUTH_REALM } from './auth.js';
export type { Authenticator, RegistryAuthOptions } from './auth.js';
export { toErrorResponse } from './errors.js';
export type { ErrorBody } from './errors.js';
export { REQUEST_MEDIA_TYPES, SCHEMA_REGISTRY_JSON, SCHEMA_REGISTRY_V1_JSON, parseVersion } from './request.js';
