/**
 * Confluent's wire format, pure functions over Buffers:
 *
 *   byte 0      magic byte, always 0
 *   bytes 1..4  schema id, 32-bit big-endian, as the registry assigned it
 *   bytes 5..   the Avro binary encoding of the value with that schema
 */
import { SluiceError } from '../core/errors.js';

export const MAGIC_BYTE = 0;
export const HEADER_SIZE = 5;

export function writeHeader(buf: Buffer, schemaId: number): void {
  buf[0] = MAGIC_BYTE;
  buf.writeInt32BE(schemaId, 1);
}

/** Reads the schema id of a framed message; throws on a short message or a foreign magic byte. */
export function readSchemaId(buf: Buffer): number {
  if (buf.length < HEADER_SIZE) {
    throw new SluiceError(
      'SLUICE_ERR_CODEC_MAGIC',
      `Message of ${buf.length} bytes is too short for the Confluent wire format (5-byte header)`,
    );
  }
  if (buf[0] !== MAGIC_BYTE) {
    throw new SluiceError('SLUICE_ERR_CODEC_MAGIC', `Unknown magic byte ${buf[0]} (expected 0): not a Confluent-framed Avro message`);
  }
  return buf.readInt32BE(1);
}
