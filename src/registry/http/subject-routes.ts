/** `/subjects/...`: listing, lookup, registration, versions and deletes. */
import type { FastifyInstance } from 'fastify';
import type { RegistryStore } from '../store/registry-store.js';
import type { SubjectSchema } from '../store/types.js';
import { flag, parseSchemaRequest, parseVersion, stringParam } from './request.js';
import { withReferences } from './schema-routes.js';

interface SubjectParams {
  Params: { subject: string };
}
interface VersionParams {
  Params: { subject: string; version: string };
}

export function subjectRoutes(app: FastifyInstance, registry: RegistryStore): void {
  app.get('/subjects', async (req) =>
    registry.listSubjects({
      includeDeleted: flag(req.query, 'deleted') || flag(req.query, 'deletedOnly'),
      prefix: stringParam(req.query, 'subjectPrefix') ?? '',
    }),
  );

  app.post<SubjectParams>('/subjects/:subject', async (req) => {
    const found = await registry.lookup(req.params.subject, parseSchemaRequest(req.body), {
      normalize: flag(req.query, 'normalize'),
      includeDeleted: flag(req.query, 'deleted'),
    });
    return versionBody(found);
  });

  app.delete<SubjectParams>('/subjects/:subject', async (req) => registry.deleteSubject(req.params.subject, flag(req.query, 'permanent')));

  app.get<SubjectParams>('/subjects/:subject/versions', async (req) =>
    registry.listVersions(req.params.subject, flag(req.query, 'deleted')),
  );

  app.post<SubjectParams>('/subjects/:subject/versions', async (req) => {
    const r = await registry.register(req.params.subject, parseSchemaRequest(req.body), { normalize: flag(req.query, 'normalize') });
    return withReferences({ id: r.id, version: r.version, schema: r.schema }, r.references);
  });

  app.get<VersionParams>('/subjects/:subject/versions/:version', async (req) =>
    versionBody(await registry.getVersion(req.params.subject, parseVersion(req.params.version), flag(req.query, 'deleted'))),
  );

  app.get<VersionParams>(
    '/subjects/:subject/versions/:version/schema',
    async (req) => (await registry.getVersion(req.params.subject, parseVersion(req.params.version), flag(req.query, 'deleted'))).schema,
  );

  app.get<VersionParams>('/subjects/:subject/versions/:version/referencedby', async (req) =>
    registry.referencedBy(req.params.subject, parseVersion(req.params.version), flag(req.query, 'deleted')),
  );

  app.delete<VersionParams>('/subjects/:subject/versions/:version', async (req) =>
    registry.deleteVersion(req.params.subject, parseVersion(req.params.version), flag(req.query, 'permanent')),
  );
}

/** Confluent's Schema entity: subject, version, id, references (when any), schema; `deleted` only when soft-deleted. */
function versionBody(s: SubjectSchema): Record<string, unknown> {
  const body: Record<string, unknown> = { subject: s.subject, version: s.version, id: s.id };
  if (s.references.length > 0) body.references = s.references;
  body.schema = s.schema;
  if (s.deleted) body.deleted = true;
  return body;
}
