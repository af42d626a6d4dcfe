/** The registry's records as the store hands them out (and the REST API shows them). */
import type { CompatibilityLevel } from '../compatibility/index.js';

export const REGISTRY_MODES = ['READWRITE', 'READONLY', 'IMPORT'] as const;
export type RegistryMode = (typeof REGISTRY_MODES)[number];

export const DEFAULT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD';
export const DEFAULT_MODE: RegistryMode = 'READWRITE';

/** `version` -1 means "the latest version" when resolving. */
export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

/** A registration, lookup or compatibility request body (Confluent's RegisterSchemaRequest). */
export interface SchemaRequest {
  schema: string;
  schemaType?: string;
  references?: SchemaReference[];
  /** Explicit id: IMPORT mode only. */
  id?: number;
  /** Explicit version: must be the next one, except in IMPORT mode. */
  version?: number;
}

/** A schema by id: `GET /schemas/ids/{id}`. */
export interface StoredSchema {
  id: number;
  schemaType: 'AVRO';
  schema: string;
  references: SchemaReference[];
}

/** One version of a subject: `GET /subjects/{subject}/versions/{version}`. */
export interface SubjectSchema extends StoredSchema {
  subject: string;
  version: number;
  deleted: boolean;
}

export interface SubjectVersion {
  subject: string;
  version: number;
}

export interface CompatibilityReport {
  compatible: boolean;
  /** Confluent's messages when incompatible (or the parse error, when asked to be verbose). */
  messages: string[];
}
