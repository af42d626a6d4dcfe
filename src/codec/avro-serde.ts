/**
 * Avro values to and from Confluent-framed bytes, with schemas from a registry.
 *
 * Writing: `writer(subject, schema)` registers the schema once (or looks it up, when auto-register
 * is off) and returns a synchronous encoder: the hot path does no I/O and no lookups.
 * Reading: the writer schema is fetched by the id in each message (cached), and resolved to the
 * reader's schema by Avro's resolution rules; `decodeBatch` fetches all unknown ids of a batch
 * first, then decodes synchronously.
 *
 * Names: avsc matches records by full name, the Avro specification by unqualified name (a Java
 * producer in another namespace must still be readable), so writer names are aligned to the
 * reader's before resolving.
 */
import avro from 'avsc';
import { SluiceError } from '../core/errors.js';
import { show } from '../core/portable-values.js';
import { avscOptions } from './logical-types.js';
import { HEADER_SIZE, readSchemaId, writeHeader } from './confluent-wire.js';
import { alignWriterNames } from './align-names.js';

/** What the codec needs of a registry; RegistryClient (src/registry/client.ts) provides it. */
export interface SchemaRegistryLike {
  register(subject: string, schema: string): Promise<number>;
  getSchemaById(id: number): Promise<string>;
  lookup?(subject: string, schema: string): Promise<{ id: number } | undefined>;
}

export interface AvroSerdeOptions {
  /** Register unknown schemas (default). When false, the schema must already be registered. */
  autoRegister?: boolean;
}

export type AvroSchemaInput = string | object | avro.Type;

export interface AvroWriter {
  readonly id: number;
  readonly subject: string;
  readonly type: avro.Type;
  encode(value: unknown): Buffer;
}

export function avroType(schema: AvroSchemaInput): avro.Type {
  if (avro.Type.isType(schema)) return schema as avro.Type;
  // A string is schema JSON text, or a bare type name such as "long".
  const json = typeof schema === 'string' && /^\s*[[{"]/.test(schema) ? JSON.parse(schema) : schema;
  return avro.Type.forSchema(json, avscOptions());
}

/** The schema text a type is registered with: its own attributes, logical types included. */
export function schemaText(type: avro.Type): string {
  return JSON.stringify(type.schema({ exportAttrs: true }));
}

export class AvroSerde {
  private readonly writers = new Map<string, Promise<AvroWriter>>();
  private readonly writerTypes = new Map<number, Promise<{ type: avro.Type; text: string }>>();
  private readonly writerTypesReady = new Map<number, { type: avro.Type; text: string }>();
  private readonly resolvers = new WeakMap<avro.Type, Map<number, avro.Resolver | null>>();
  private readonly autoRegister: boolean;
  private scratch = Buffer.allocUnsafe(64 * 1024);

  constructor(
    private readonly registry: SchemaRegistryLike,
    opts: AvroSerdeOptions = {},
  ) {
    this.autoRegister = opts.autoRegister ?? true;
  }

  /** A synchronous encoder for `schema` under `subject`, registering it on first use. */
  writer(subject: string, schema: AvroSchemaInput): Promise<AvroWriter> {
    const type = avroType(schema);
    const text = schemaText(type);
    const key = `${subject}\u0000${text}`;
    let w = this.writers.get(key);
    if (!w) {
      w = this.resolveId(subject, text).then((id) => ({ id, subject, type, encode: (value: unknown) => this.encode(id, type, value) }));
      this.writers.set(key, w);
      w.catch(() => this.writers.delete(key));
    }
    return w;
  }

  async serialize(subject: string, schema: AvroSchemaInput, value: unknown): Promise<Buffer> {
    return (await this.writer(subject, schema)).encode(value);
  }

  /** Decodes one framed message, resolved to `reader` when given (else read as written). */
  async deserialize(buf: Buffer, reader?: AvroSchemaInput): Promise<unknown> {
    const id = readSchemaId(buf);
    await this.loadWriter(id);
    return this.decodeLoaded(buf, id, reader === undefined ? undefined : avroType(reader));
  }

  /** Decodes a batch: one round of registry fetches for the unknown ids, then synchronous decoding. */
  async deserializeBatch(bufs: readonly Buffer[], reader?: AvroSchemaInput): Promise<unknown[]> {
    const ids = bufs.map(readSchemaId);
    const missing = [...new Set(ids)].filter((id) => !this.writerTypesReady.has(id));
    if (missing.length) await Promise.all(missing.map((id) => this.loadWriter(id)));
    const readerType = reader === undefined ? undefined : avroType(reader);
    return bufs.map((b, i) => this.decodeLoaded(b, ids[i]!, readerType));
  }

  /**
   * Decodes a batch whose messages may carry different record types (several tables in one topic):
   * each is resolved to the reader registered for its writer record's full name (or, failing that,
   * its unqualified name). Unknown record types are an error naming the schema id and name.
   */
  async deserializeBatchByRecord(
    bufs: readonly Buffer[],
    readers: ReadonlyMap<string, avro.Type>,
  ): Promise<Array<{ name: string; value: unknown }>> {
    const ids = bufs.map(readSchemaId);
    const missing = [...new Set(ids)].filter((id) => !this.writerTypesReady.has(id));
    if (missing.length) await Promise.all(missing.map((id) => this.loadWriter(id)));
    return bufs.map((b, i) => {
      const id = ids[i]!;
      const name = this.writerTypesReady.get(id)!.type.name ?? '';
      const reader = readers.get(name) ?? readers.get(name.slice(name.lastIndexOf('.') + 1));
      if (!reader) {
        throw new SluiceError(
          'SLUICE_ERR_SCHEMA_INCOMPATIBLE',
          `Message with schema id ${id} is a "${name}" record, which no configured table reads`,
          { context: { schemaId: id } },
        );
      }
      return { name: reader.name ?? name, value: this.decodeLoaded(b, id, reader) };
    });
  }

  private async resolveId(subject: string, text: string): Promise<number> {
    if (this.autoRegister) return this.registry.register(subject, text);
    const found = this.registry.lookup ? await this.registry.lookup(subject, text) : undefined;
    if (!found)
      throw new SluiceError(
        'SLUICE_ERR_CODEC_UNKNOWN_ID',
        `Schema is not registered under subject "${subject}" and auto-registration is off`,
        { context: { subject } },
      );
    return found.id;
  }

  private encode(id: number, type: avro.Type, value: unknown): Buffer {
    for (;;) {
      let end: number;
      try {
        end = type.encode(value, this.scratch, HEADER_SIZE);
      } catch {
        throw valueError(type, value);
      }
      if (end > 0) {
        const out = Buffer.allocUnsafe(end);
        this.scratch.copy(out, 0, 0, end);
        writeHeader(out, id);
        return out;
      }
      // A negative result is how many more bytes avsc needed.
      this.scratch = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.scratch.length - end + HEADER_SIZE));
    }
  }

  private loadWriter(id: number): Promise<{ type: avro.Type; text: string }> {
    let p = this.writerTypes.get(id);
    if (!p) {
      p = this.registry.getSchemaById(id).then(
        (text) => {
          const loaded = { type: avroType(text), text };
          this.writerTypesReady.set(id, loaded);
          return loaded;
        },
        (err: unknown) => {
          this.writerTypes.delete(id);
          if (err instanceof SluiceError && (err.context.errorCode === 40403 || err.context.status === 404)) {
            throw new SluiceError('SLUICE_ERR_CODEC_UNKNOWN_ID', `Schema id ${id} is not known to the registry`, {
              cause: err,
              context: { schemaId: id },
            });
          }
          throw err;
        },
      );
      this.writerTypes.set(id, p);
    }
    return p;
  }

  private decodeLoaded(buf: Buffer, id: number, reader: avro.Type | undefined): unknown {
    const writer = this.writerTypesReady.get(id)!;
    let res: { value: unknown; offset: number };
    if (!reader) res = writer.type.decode(buf, HEADER_SIZE);
    else {
      const resolver = this.resolverFor(reader, id, writer);
      res = resolver ? reader.decode(buf, HEADER_SIZE, resolver) : reader.decode(buf, HEADER_SIZE);
    }
    if (res.offset !== buf.length) {
      throw new SluiceError(
        'SLUICE_ERR_CODEC_VALUE',
        `Message with schema id ${id} is truncated or has ${res.offset < 0 ? 'too few' : 'trailing'} bytes for its schema`,
        { context: { schemaId: id } },
      );
    }
    return res.value;
  }

  /** null = the writer schema is the reader's own: decode directly, no resolution needed. */
  private resolverFor(reader: avro.Type, id: number, writer: { type: avro.Type; text: string }): avro.Resolver | null {
    let byId = this.resolvers.get(reader);
    if (!byId) this.resolvers.set(reader, (byId = new Map()));
    let r = byId.get(id);
    if (r === undefined) {
      if (schemaText(reader) === schemaText(writer.type)) r = null;
      else {
        try {
          r = reader.createResolver(avroType(alignWriterNames(writer.text, reader)));
        } catch (err) {
          throw new SluiceError(
            'SLUICE_ERR_SCHEMA_INCOMPATIBLE',
            `Writer schema id ${id} cannot be read with the reader schema ${describe(reader)}: ${(err as Error).message}`,
            { cause: err, context: { schemaId: id } },
          );
        }
      }
      byId.set(id, r);
    }
    return r;
  }
}

function describe(t: avro.Type): string {
  return t.name ?? t.typeName;
}

/** Names the first field whose value does not fit, e.g. `field "amount": "12.345" is not decimal(10,2)`. */
export function valueError(type: avro.Type, value: unknown): SluiceError {
  let detail = '';
  let field: string | undefined;
  type.isValid(value, {
    errorHook(path: string[], any: unknown, t: avro.Type) {
      if (detail) return;
      field = path.join('.');
      detail = `${field ? `field "${field}"` : 'value'}: ${show(any, 80)} is not a valid ${typeLabel(t)}`;
    },
  });
  return new SluiceError('SLUICE_ERR_CODEC_VALUE', `Value does not fit Avro schema ${describe(type)}: ${detail || 'unknown reason'}`, {
    context: { ...(field ? { field } : {}) },
  });
}

function typeLabel(t: avro.Type): string {
  const schema = t.schema({ exportAttrs: true }) as unknown;
  if (typeof schema === 'string') return schema;
  const s = schema as { logicalType?: string; precision?: number; scale?: number; type?: unknown };
  if (s.logicalType === 'decimal') return `decimal(${s.precision},${s.scale})`;
  if (s.logicalType) return s.logicalType;
  return Array.isArray(schema)
    ? (schema as unknown[])
        .map((b) =>
          typeof b === 'string' ? b : ((b as { logicalType?: string; type?: string }).logicalType ?? (b as { type?: string }).type),
        )
        .join(' | ')
    : String(s.type ?? t.typeName);
}
