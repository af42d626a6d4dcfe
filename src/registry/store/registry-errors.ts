/**
 * The errors the registry answers with, as Confluent's Schema Registry codes them
 * (`rest/exceptions/Errors.java`): an HTTP status, an `error_code` and the same message text, so
 * clients that match on either keep working. Thrown by the store, turned into
 * `{"error_code": N, "message": "..."}` by the HTTP layer.
 */
import { SluiceError, type ErrorCode } from '../../core/errors.js';

/** error_code → HTTP status. A closed list: never reuse a code for another meaning. */
export const REGISTRY_ERROR_CODES = {
  401: 401, // unauthorized (no or wrong credentials)
  404: 404, // no such route / resource path
  409: 409, // incompatible schema (Confluent ≥ 8.1 answers 40901; clients match on the HTTP status)
  413: 413, // request body too large
  415: 415, // unsupported media type
  40401: 404, // subject not found
  40402: 404, // version not found
  40403: 404, // schema not found
  40404: 404, // subject soft-deleted
  40405: 404, // subject not soft-deleted before a permanent delete
  40406: 404, // schema version soft-deleted
  40407: 404, // schema version not soft-deleted before a permanent delete
  40408: 404, // subject compatibility not configured
  40409: 404, // subject mode not configured
  42201: 422, // invalid schema (or unsupported schema type, or malformed request body)
  42202: 422, // invalid version
  42203: 422, // invalid compatibility level
  42204: 422, // invalid mode
  42205: 422, // operation not permitted (mode)
  42206: 422, // reference exists
  42208: 422, // invalid subject
  50001: 500, // store error
} as const;

export type RegistryErrorCode = keyof typeof REGISTRY_ERROR_CODES;

export class RegistryError extends SluiceError {
  readonly errorCode: RegistryErrorCode;
  readonly status: number;

  constructor(errorCode: RegistryErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(sluiceCode(errorCode), message, { ...opts, context: { errorCode } });
    this.errorCode = errorCode;
    this.status = REGISTRY_ERROR_CODES[errorCode];
  }
}

function sluiceCode(errorCode: RegistryErrorCode): ErrorCode {
  if (errorCode === 409) return 'SLUICE_ERR_SCHEMA_INCOMPATIBLE';
  if (errorCode === 42201) return 'SLUICE_ERR_SCHEMA_INVALID';
  if (errorCode === 50001) return 'SLUICE_ERR_STORE';
  return 'SLUICE_ERR_REGISTRY';
}

export function isRegistryError(err: unknown): err is RegistryError {
  return err instanceof RegistryError;
}

// Messages as Confluent words them (including its missing spaces).
export const registryErrors = {
  subjectNotFound: (subject: string) => new RegistryError(40401, `Subject '${subject}' not found.`),
  versionNotFound: (version: number) => new RegistryError(40402, `Version ${version} not found.`),
  schemaNotFound: (id?: number) => new RegistryError(40403, id === undefined ? 'Schema not found' : `Schema ${id} not found`),
  subjectSoftDeleted: (subject: string) =>
    new RegistryError(40404, `Subject '${subject}' was soft deleted.Set permanent=true to delete permanently`),
  subjectNotSoftDeleted: (subject: string) =>
    new RegistryError(40405, `Subject '${subject}' was not deleted first before being permanently deleted`),
  versionSoftDeleted: (subject: string, version: number) =>
    new RegistryError(40406, `Subject '${subject}' Version ${version} was soft deleted.Set permanent=true to delete permanently`),
  versionNotSoftDeleted: (subject: string, version: number) =>
    new RegistryError(40407, `Subject '${subject}' Version ${version} was not deleted first before being permanently deleted`),
  compatibilityNotConfigured: (subject: string) =>
    new RegistryError(40408, `Subject '${subject}' does not have subject-level compatibility configured`),
  modeNotConfigured: (subject: string) => new RegistryError(40409, `Subject '${subject}' does not have subject-level mode configured`),
  incompatible: (subject: string, details: string[]) =>
    new RegistryError(
      409,
      `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${details.join(', ')}]`,
    ),
  invalidSchema: (message: string, cause?: unknown) => new RegistryError(42201, message, { cause }),
  invalidVersion: (version: string) =>
    new RegistryError(
      42202,
      `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
    ),
  invalidCompatibility: () =>
    new RegistryError(
      42203,
      'Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive',
    ),
  invalidMode: () => new RegistryError(42204, 'Invalid mode. Valid values are READWRITE, READONLY and IMPORT.'),
  operationNotPermitted: (message: string) => new RegistryError(42205, message),
  referenceExists: (subject: string, version: number) =>
    new RegistryError(42206, `One or more references exist to the schema {magic=1,keytype=SCHEMA,subject=${subject},version=${version}}.`),
  invalidSubject: (subject: string) => new RegistryError(42208, `The specified subject '${subject}' is not a valid.`),
  store: (message: string, cause?: unknown) => new RegistryError(50001, message, { cause }),
};
