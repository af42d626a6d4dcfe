/**
 * Every error the REST API answers with, as Confluent shapes it: `{"error_code": N, "message": "..."}`.
 * Nothing else (no stack, no driver text) ever reaches a client; 5xx causes are logged instead.
 */
import { isSluiceError } from '../../core/errors.js';
import { isRegistryError } from '../store/registry-errors.js';

export interface ErrorBody {
  error_code: number;
  message: string;
}

export function toErrorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (isRegistryError(err)) return { status: err.status, body: { error_code: err.errorCode, message: err.message } };
  if (isSluiceError(err, 'SLUICE_ERR_SCHEMA_INVALID')) return { status: 422, body: { error_code: 42201, message: err.message } };
  if (isSluiceError(err, 'SLUICE_ERR_STORE'))
    return { status: 500, body: { error_code: 50001, message: 'Error in the backend data store' } };
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    switch (status) {
      case 413:
        return { status, body: { error_code: 413, message: 'Request body is too large' } };
      case 415:
        return { status, body: { error_code: 415, message: 'HTTP 415 Unsupported Media Type' } };
      case 404:
        return { status, body: { error_code: 404, message: 'HTTP 404 Not Found' } };
      default:
        // Fastify's own 4xx errors (bad URL, empty body…): its message names the problem, no internals.
        return { status, body: { error_code: status, message: String((err as Error).message ?? 'Bad request') } };
    }
  }
  return { status: 500, body: { error_code: 500, message: 'Internal Server Error' } };
}
