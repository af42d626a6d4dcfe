/**
 * Registry persistence: Confluent Schema Registry semantics over the SQL state store.
 * Data flow: REST handler → RegistryStore method (one transaction per write, advisory lock per
 * subject) → sluice_registry_* tables. Schemas are parsed with their references resolved from the
 * store, stored as canonical text (referenced types by name), and identified by a content hash.
 * Compatibility is decided by ../compatibility; errors carry Confluent's error codes.
 */
export { RegistryStore } from './registry-store.js';
export type { RegisterOptions, RegisterResult } from './registry-store.js';
export { RegistryError, isRegistryError, registryErrors, REGISTRY_ERROR_CODES } from './registry-errors.js';
export type { RegistryErrorCode } from './registry-errors.js';
export * from './types.js';
export { contentHash, schemaText } from './schema-text.js';
