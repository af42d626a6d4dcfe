/**
 * Turns a driver's error into a SluiceError, once, with `retriable` decided by the driver's own
 * classification (driver.ts). Callers above this file only ever see SluiceErrors from the transport.
 */
import { SluiceError, type ErrorCode, type ErrorContext } from '../../core/errors.js';
import type { KafkaConstructor } from './types.js';

export const TRANSPORT_ERROR_CODE: ErrorCode = 'SLUICE_ERR_TRANSPORT';

export function transportError(
  driver: Pick<KafkaConstructor, 'isRetriable' | 'driverName'>,
  what: string,
  err: unknown,
  context: ErrorContext = {},
): SluiceError {
  if (err instanceof SluiceError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new SluiceError(TRANSPORT_ERROR_CODE, `Kafka ${what} failed (${driver.driverName}): ${detail}`, {
    retriable: driver.isRetriable(err),
    cause: err,
    context,
  });
}
