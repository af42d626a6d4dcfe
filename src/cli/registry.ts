/**
 * `sluice registry`: a Confluent-compatible schema registry (Avro), state in PostgreSQL or, with no
 * store named, in embedded PGlite under the data dir. Credentials come from the environment only
 * (never argv, which any local user can read with ps).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStateStore } from '../state/index.js';
import { createRegistryServer } from '../registry/server.js';
import { createLogger, redactUrl } from '../observe/logger.js';
import { SluiceError } from '../core/errors.js';

export const registryHelp = `Usage: sluice registry [options]

Runs a Confluent-compatible Schema Registry (REST API v1, Avro).

Options:
  --port <n>          port to listen on (default 8081; 0 picks a free one)
  --host <addr>       address to bind (default 127.0.0.1; 0.0.0.0 for all)
  --data-dir <dir>    where embedded PGlite keeps its state (default ./.sluice)
  --store <url>       keep state in PostgreSQL instead (postgres://user@host:5432/db)
  --body-limit <n>    largest request body in bytes (default 16777216)
  -h, --help          this text

Environment:
  SLUICE_REGISTRY_TOKENS      comma-separated bearer tokens; when set (or the next one is) requests must authenticate
  SLUICE_REGISTRY_BASIC_AUTH  comma-separated user:password pairs for HTTP basic auth
  SLUICE_STORE_URL            same as --store
  SLUICE_LOG_LEVEL            pino level (default info)`;

export async function registryCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8081' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string', default: './.sluice' },
      store: { type: 'string' },
      'body-limit': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(registryHelp);
    return;
  }
  const port = intOption(values.port, '--port', 0, 65535);
  const bodyLimit = values['body-limit'] === undefined ? undefined : intOption(values['body-limit'], '--body-limit', 1024, 1 << 30);
  const storeUrl = values.store ?? process.env.SLUICE_STORE_URL;
  const log = createLogger({ name: 'sluice-registry' });
  const store = await openStateStore(storeUrl ? { url: storeUrl } : { dataDir: join(values['data-dir'], 'state') });
  const auth = authFromEnv();
  const server = createRegistryServer({ store, logger: log, ...(auth ? { auth } : {}), ...(bodyLimit ? { bodyLimit } : {}) });
  const url = await server.listen(port, values.host);
  log.info(
    { url, store: storeUrl ? redactUrl(storeUrl) : `pglite:${join(values['data-dir'], 'state')}`, auth: auth ? 'required' : 'off' },
    'schema registry listening',
  );
  // Machine-readable line for scripts and tests that start the registry on port 0.
  console.log(`sluice registry listening on ${url}`);
  const stop = async (signal: string) => {
    log.info({ signal }, 'stopping');
    await server.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

function intOption(raw: string, name: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SluiceError('SLUICE_ERR_CONFIG', `${name} must be an integer from ${min} to ${max}, got "${raw}"`, {
      context: { configPath: name },
    });
  }
  return n;
}

function authFromEnv(): { bearerTokens?: string[]; basic?: Array<{ username: string; password: string }> } | undefined {
  const tokens = (process.env.SLUICE_REGISTRY_TOKENS ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const basic = (process.env.SLUICE_REGISTRY_BASIC_AUTH ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((pair, i) => {
      const at = pair.indexOf(':');
      if (at <= 0)
        throw new SluiceError('SLUICE_ERR_CONFIG', `SLUICE_REGISTRY_BASIC_AUTH entry ${i + 1} must be user:password`, {
          context: { configPath: 'SLUICE_REGISTRY_BASIC_AUTH' },
        });
      return { username: pair.slice(0, at), password: pair.slice(at + 1) };
    });
  if (!tokens.length && !basic.length) return undefined;
  return { ...(tokens.length ? { bearerTokens: tokens } : {}), ...(basic.length ? { basic } : {}) };
}
