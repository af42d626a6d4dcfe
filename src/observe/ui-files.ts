/** The dashboard's page and assets, served at / and /ui/ by both observe servers. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** A fixed list, so no request path ever reaches the file system. */
const UI_FILES: Record<string, { file: string; type: string; vendor?: boolean }> = {
  'index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  'messages.js': { file: 'messages.js', type: 'text/javascript; charset=utf-8' },
  'style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  'uPlot.iife.min.js': { file: 'uPlot.iife.min.js', type: 'text/javascript; charset=utf-8', vendor: true },
  'uPlot.min.css': { file: 'uPlot.min.css', type: 'text/css; charset=utf-8', vendor: true },
};

async function uiFile(name: string): Promise<Buffer | undefined> {
  const f = UI_FILES[name];
  if (!f) return undefined;
  // Built: dist/observe/ui (vendor files copied there by the build). From source: src/observe/ui,
  // and uPlot straight from node_modules.
  const local = fileURLToPath(new URL(`./ui/${f.vendor ? 'vendor/' : ''}${f.file}`, import.meta.url));
  try {
    return await readFile(local);
  } catch {
    if (!f.vendor) return undefined;
    try {
      return await readFile(createRequire(import.meta.url).resolve(`uplot/dist/${f.file}`));
    } catch {
      return undefined;
    }
  }
}

export function mountUi(app: FastifyInstance): void {
  const page = async (name: string, reply: FastifyReply) => {
    const body = await uiFile(name);
    if (!body) return reply.code(404).send({ error: 'not found' });
    // Same-origin only: the page loads nothing from elsewhere (no CDN; works offline).
    return reply
      .type(UI_FILES[name]!.type)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:")
      .send(body);
  };
  app.get('/', async (_req, reply) => page('index.html', reply));
  app.get('/ui/:file', async (req, reply) => page((req.params as { file: string }).file, reply));
}
