/** The vocabulary of compatibility checking, shared by the checker and the REST layer. */
export const COMPATIBILITY_LEVELS = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

/**
 * Mirrors Avro's `SchemaCompatibility.SchemaIncompatibilityType`, plus one case Avro has no type
 * for: AMBIGUOUS_READER_FIELD, where a reader field (by name and aliases) matches two writer fields.
 * Avro throws an AvroRuntimeException there, which aborts the whole check; Confluent's registry
 * catches it and reports the pair incompatible with "Unexpected exception during compatibility
 * check: ...". It is only ever the single incompatibility of its check.
 */
export type IncompatibilityType =
  | 'NAME_MISMATCH'
  | 'FIXED_SIZE_MISMATCH'
  | 'MISSING_ENUM_SYMBOLS'
  | 'READER_FIELD_MISSING_DEFAULT_VALUE'
  | 'TYPE_MISMATCH'
  | 'MISSING_UNION_BRANCH'
  | 'AMBIGUOUS_READER_FIELD';

export interface Incompatibility {
  type: IncompatibilityType;
  /** JSON-pointer-like path into the reader schema, as Avro reports it: `/fields/2/type/items`. */
  location: string;
  /** A sentence that names the field or type and says why. */
  message: string;
  /**
   * Avro's own `Incompatibility.getMessage()`, verbatim: the field name, `expected: com.x.Name`,
   * `[A, B]` (missing symbols), `reader type: INT not compatible with writer type: STRING`...
   * Confluent shows it as `additionalInfo`.
   */
  detail: string;
}
