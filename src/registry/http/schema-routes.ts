/** `/schemas/...`: schemas by id, and the schema types this registry stores. */
import type { FastifyInstance } from 'fastify';
import type { RegistryStore } from '../store/registry-store.js';
import type { SchemaReference } from '../store/types.js';
import { flag, parseSchemaId } from './request.js';

interface IdParams {
  Params: { id: string };
}

export function schemaRoutes(app: FastifyInstance, registry: RegistryStore): void {
  app.get('/schemas/types', async () => ['AVRO']);

  // `subject` only picks a context in Confluent; this registry has one.
  app.get<IdParams>('/schemas/ids/:id', async (req) => {
    const s = await registry.getSchemaById(parseSchemaId(req.params.id));
    return withReferences({ schema: s.schema }, s.references);
  });

  app.get<IdParams>('/schemas/ids/:id/schema', async (req) => (await registry.getSchemaById(parseSchemaId(req.params.id))).schema);

  app.get<IdParams>('/schemas/ids/:id/subjects', async (req) =>
    registry.subjectsForId(parseSchemaId(req.params.id), flag(req.query, 'deleted')),
  );

  app.get<IdParams>('/schemas/ids/:id/versions', async (req) =>
    registry.versionsForId(parseSchemaId(req.params.id), flag(req.query, 'deleted')),
  );
}

/** Confluent leaves `references` out when there are none (and `schemaType` for AVRO). */
export function withReferences<T extends object>(body: T, references: SchemaReference[]): T & { references?: SchemaReference[] } {
  return references.length > 0 ? { ...body, references } : body;
}
