/** `/config`, `/mode` and `/compatibility`: levels, modes and compatibility checks. */
import type { FastifyInstance } from 'fastify';
import type { RegistryStore } from '../store/registry-store.js';
import { flag, parseConfigRequest, parseModeRequest, parseSchemaRequest, parseVersion } from './request.js';

interface SubjectParams {
  Params: { subject: string };
}
interface VersionParams {
  Params: { subject: string; version: string };
}

export function configRoutes(app: FastifyInstance, registry: RegistryStore): void {
  // ---- compatibility level
  app.get('/config', async (req) => ({ compatibilityLevel: await registry.getCompatibility(null, flag(req.query, 'defaultToGlobal')) }));
  app.put('/config', async (req) => updateConfig(registry, null, req.body));
  app.delete('/config', async () => ({ compatibilityLevel: await registry.deleteCompatibility(null) }));
  app.get<SubjectParams>('/config/:subject', async (req) => ({
    compatibilityLevel: await registry.getCompatibility(req.params.subject, flag(req.query, 'defaultToGlobal')),
  }));
  app.put<SubjectParams>('/config/:subject', async (req) => updateConfig(registry, req.params.subject, req.body));
  app.delete<SubjectParams>('/config/:subject', async (req) => ({
    compatibilityLevel: await registry.deleteCompatibility(req.params.subject),
  }));

  // ---- mode
  app.get('/mode', async () => ({ mode: await registry.getMode(null, true) }));
  app.put('/mode', async (req) => ({ mode: await registry.setMode(null, parseModeRequest(req.body), flag(req.query, 'force')) }));
  app.delete('/mode', async () => ({ mode: await registry.deleteMode(null) }));
  app.get<SubjectParams>('/mode/:subject', async (req) => ({
    mode: await registry.getMode(req.params.subject, flag(req.query, 'defaultToGlobal')),
  }));
  app.put<SubjectParams>('/mode/:subject', async (req) => ({
    mode: await registry.setMode(req.params.subject, parseModeRequest(req.body), flag(req.query, 'force')),
  }));
  app.delete<SubjectParams>('/mode/:subject', async (req) => ({ mode: await registry.deleteMode(req.params.subject) }));

  // ---- compatibility checks
  app.post<SubjectParams>('/compatibility/subjects/:subject/versions', async (req) => {
    const verbose = flag(req.query, 'verbose');
    const report = await registry.testCompatibility(req.params.subject, undefined, parseSchemaRequest(req.body), {
      normalize: flag(req.query, 'normalize'),
      verbose,
    });
    return verbose ? { is_compatible: report.compatible, messages: report.messages } : { is_compatible: report.compatible };
  });
  app.post<VersionParams>('/compatibility/subjects/:subject/versions/:version', async (req) => {
    const verbose = flag(req.query, 'verbose');
    const version = parseVersion(req.params.version);
    const report = await registry.testCompatibility(req.params.subject, version, parseSchemaRequest(req.body), {
      normalize: flag(req.query, 'normalize'),
      verbose,
    });
    return verbose ? { is_compatible: report.compatible, messages: report.messages } : { is_compatible: report.compatible };
  });
}

async function updateConfig(registry: RegistryStore, subject: string | null, body: unknown): Promise<{ compatibility?: string }> {
  const level = parseConfigRequest(body);
  if (level === undefined) {
    // Nothing to change: answer with what is set (Confluent echoes the stored config).
    try {
      return { compatibility: await registry.getCompatibility(subject, false) };
    } catch {
      return {};
    }
  }
  return { compatibility: await registry.setCompatibility(subject, level) };
}
