// An in-memory stand-in for a registry, for codec unit tests only (the real server and Apicurio
// are exercised in test/integration). Ids are assigned per distinct schema text, like a registry.
import { SluiceError } from '../../src/core/errors.js';
import type { SchemaRegistryLike } from '../../src/codec/avro-serde.js';

export class MemoryRegistry implements SchemaRegistryLike {
  readonly schemas = new Map<number, string>();
  readonly subjects = new Map<string, number[]>();
  getCalls = 0;

  async register(subject: string, schema: string): Promise<number> {
    let id = [...this.schemas].find(([, s]) => s === schema)?.[0];
    if (id === undefined) {
      id = this.schemas.size + 100;
      this.schemas.set(id, schema);
    }
    const ids = this.subjects.get(subject) ?? [];
    if (!ids.includes(id)) ids.push(id);
    this.subjects.set(subject, ids);
    return id;
  }

  async lookup(subject: string, schema: string): Promise<{ id: number } | undefined> {
    const id = this.subjects.get(subject)?.find((i) => this.schemas.get(i) === schema);
    return id === undefined ? undefined : { id };
  }

  async getSchemaById(id: number): Promise<string> {
    this.getCalls++;
    const s = this.schemas.get(id);
    if (s === undefined)
      throw new SluiceError('SLUICE_ERR_REGISTRY', `404 (40403): Schema ${id} not found`, { context: { status: 404, errorCode: 40403 } });
    return s;
  }
}
