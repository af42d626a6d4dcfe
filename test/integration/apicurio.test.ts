// The codec's registry client against a real third-party registry: Apicurio Registry's
// Confluent-compatible API, started from its Maven Central release by dev/apicurio/start.sh.
import { after, before, describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, hasCommand, skipUnless, startService, type Service } from '../support/services.js';
import { registryClientContract } from './registry-client.contract.js';

const script = fileURLToPath(new URL('../../dev/apicurio/start.sh', import.meta.url));
const skip = skipUnless((await hasCommand('java')) && (await hasCommand('mvn')), 'Java 17 and Maven (for Apicurio Registry)');

describe('Apicurio Registry (ccompat v7)', { skip }, () => {
  let svc: Service;
  before(
    async () => {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}/apis/ccompat/v7`;
      svc = await startService(script, [String(port)], `${base}/subjects`, base);
    },
    { timeout: 600_000 },
  );
  after(async () => svc?.stop());
  registryClientContract('Apicurio', () => ({ url: svc.url }));
});
