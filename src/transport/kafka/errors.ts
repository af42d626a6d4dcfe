/**
 * Turns a driver's error into a SluiceError, once, with `retriable` decided by the driver's own
 * classification (driver.ts). Callers above this file only ever see SluiceErrors from the transport.
 */
import { ERROR_CODES, SluiceError, type ErrorCode, type ErrorContext } from '../../core/errors.js';
import type { KafkaConstructor } from './types.js';

/**
 * The transport's error code. core/errors.ts has no Kafka code yet (that file belongs to core): until
 * it gains `SLUICE_ERR_TRANSPORT`, the transport reports its failures under that name anyway, so
 * adding it there (and to docs/errors.md) changes no behaviour.
 */
export const TRANSPORT_ERROR_CODE = 'SLUICE_ERR_TRANSPORT' as ErrorCode;
export const transportCodeRegistered = Object.hasOwn(ERROR_CODES, TRANSPORT_ERROR_CODE);

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
