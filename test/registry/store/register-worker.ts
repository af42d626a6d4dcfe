/**
 * A second registry process for the concurrency test: opens its own store on the PostgreSQL URL in
 * argv[2], says "ready", waits for a line on stdin so both processes start together, registers the
 * jobs in argv[3] (JSON [{subject, schema}]) all at once, and prints the results as one JSON line.
 */
import { createInterface } from 'node:readline';
import { RegistryStore } from '../../../src/registry/store/index.js';
import { openStateStore } from '../../../src/state/index.js';

const [url, jobsJson] = process.argv.slice(2);
const jobs = JSON.parse(jobsJson!) as Array<{ subject: string; schema: string }>;
const store = await openStateStore({ url: url! });
const registry = new RegistryStore(store);
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
lines.close();
const results = await Promise.all(
  jobs.map(async (job) => {
    try {
      const r = await registry.register(job.subject, { schema: job.schema });
      return { ...job, id: r.id, version: r.version };
    } catch (err) {
      return { ...job, error: `${(err as Error).message}` };
    }
  }),
);
process.stdout.write(`${JSON.stringify(results)}\n`);
await store.close();
