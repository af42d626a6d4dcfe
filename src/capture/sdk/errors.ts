/** The SDK's two failure kinds (core/errors.ts, docs/errors.md). */
import { SluiceError, type ErrorCode, type ErrorContext } from '../../core/errors.js';

/** The API refused the change (400, 401, 413…) or it could not be sent at all: fix it, sending again will not help. */
export const CAPTURE_REJECTED: ErrorCode = 'SLUICE_ERR_CAPTURE_REJECTED';
/** The API could not be reached or kept failing (network, timeout, 5xx) through every retry. */
export const CAPTURE_UNAVAILABLE: ErrorCode = 'SLUICE_ERR_CAPTURE_UNAVAILABLE';

export function rejected(message: string, context: ErrorContext = {}, cause?: unknown): SluiceError {
  return new SluiceError(CAPTURE_REJECTED, message, { retriable: false, context, ...(cause === undefined ? {} : { cause }) });
}

export function unavailable(message: string, retriable: boolean, context: ErrorContext = {}, cause?: unknown): SluiceError {
  return new SluiceError(CAPTURE_UNAVAILABLE, message, { retriable, context, ...(cause === undefined ? {} : { cause }) });
}
