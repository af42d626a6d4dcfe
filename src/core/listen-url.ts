/**
 * Starts a fastify app on port/host and returns the URL it answers on (port 0 picks a free port:
 * the URL tells which). Shared by every HTTP server sluice runs.
 */
import type { FastifyInstance } from 'fastify';

export async function listenUrl(app: FastifyInstance, port: number, host = '127.0.0.1'): Promise<string> {
  await app.listen({ port, host });
  const address = app.server.address();
  if (address === null || typeof address === 'string') return String(address);
  const h = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${h}:${address.port}`;
}
