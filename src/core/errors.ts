/**
 * One coded error type for the whole project. Codes are a closed list: a retired code is never
 * reused for a new meaning. `retriable` tells the one retry helper whether trying again can help.
 */
export const ERROR_CODES = {
  SLUICE_ERR_CONFIG: 'A configuration key is missing or has a value of the wrong shape.',
  SLUICE_ERR_SCHEMA_INVALID: 'A schema (Avro or table) is malformed.',
  SLUICE_ERR_SCHEMA_INCOMPATIBLE: "A schema change breaks the subject's compatibility level.",
  SLUICE_ERR_CODEC_MAGIC: 'A message does not start with the Confluent wire-format magic byte 0.',
  SLUICE_ERR_CODEC_UNKNOWN_ID: 'The schema id in a message is not known to the registry.',
  SLUICE_ERR_CODEC_VALUE: 'A value does not fit the Avro schema it is encoded with.',
  SLUICE_ERR_REGISTRY: 'The schema registry answered with an error.',
  SLUICE_ERR_REGISTRY_UNAVAILABLE: 'The schema registry could not be reached.',
  SLUICE_ERR_STORE: 'The state store failed.',
  SLUICE_ERR_TRANSPORT: 'The Kafka transport failed (broker unreachable, a produce, fetch or commit refused).',
  SLUICE_ERR_APPLY: 'A change could not be applied to the target database.',
  SLUICE_ERR_CAPTURE_REJECTED: 'The capture API refused a change (invalid table, key or value).',
  SLUICE_ERR_CAPTURE_UNAVAILABLE: 'The capture API could not be reached or could not make a change durable.',
  SLUICE_ERR_SOURCE: 'The source database failed or holds a table sluice cannot replicate.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorContext {
  table?: string;
  field?: string;
  key?: unknown;
  configPath?: string;
  subject?: string;
  schemaId?: number;
  [extra: string]: unknown;
}

export class SluiceError extends Error {
  override readonly name = 'SluiceError';
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, opts: { retriable?: boolean; cause?: unknown; context?: ErrorContext } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retriable = opts.retriable ?? false;
    this.context = opts.context ?? {};
  }
}

export function isSluiceError(err: unknown, code?: ErrorCode): err is SluiceError {
  return err instanceof SluiceError && (code === undefined || err.code === code);
}
