/**
 * `sluice check -c sluice.yaml`: validates the config, then connects to everything it names and
 * says, per item, what is wrong and how to fix it. Exit 0 only when every check passed.
 */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { openConnection } from '../pipeline/connections.js';
import { kafkaConnection, registryAuth, tableRef } from '../pipeline/run.js';
import { introspect } from '../metadata/index.js';
import { RegistryClient } from '../registry/client.js';
import { connect as connectKafka } from '../transport/kafka/options.js';
import { isSluiceError } from '../core/errors.js';
import type { TableSchema } from '../core/table-schema.js';

export const checkHelp = `Usage: sluice check -c <config.yaml>

Validates the config (errors name the key path), then checks that sluice can reach the source
and target databases, that every table exists with a primary key (or configured keyColumns) and
that the target table has the source's columns, that the Kafka brokers and the schema registry
answer. Prints one line per check with how to fix a failure; exits 1 if any failed.`;

export async function checkCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return void console.log(checkHelp);
  if (!values.config) throw Object.assign(new Error('missing -c <config.yaml> (see sluice check --help)'), { code: 'ERR_PARSE_ARGS_MISSING' });
  let failed = 0;
  const report = (ok: boolean, what: string, detail = '') => {
    if (!ok) failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'}  ${what}${detail ? `: ${detail}` : ''}`);
  };
  const cfg = await loadConfigFile(values.config);
  report(true, `config ${values.config}`);
  const attempt = async <T>(what: string, fn: () => Promise<T>, hint: string): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      report(false, what, `${(err as Error).message}${hint ? ` (${hint})` : ''}`);
      return undefined;
    }
  };
  const closers: Array<() => Promise<void>> = [];
  try {
    const target = await attempt('target database', () => openConnection(cfg.target.connection, 'target.connection'), 'check target.connection.url and that the server runs');
    if (target) { closers.push(() => target.close()); report(true, `target database ${target.describe}`); }
    const source = cfg.source.connection ? await attempt('source database', () => openConnection(cfg.source.connection!, 'source.connection'), 'check source.connection.url and that the server runs') : undefined;
    if (source) { closers.push(() => source.close()); report(true, `source database ${source.describe}`); }
    const meta = source ?? target;
    if (meta) {
      for (const [i, spec] of cfg.source.tables.entries()) {
        const ref = tableRef(spec);
        const t = await attempt(`source.tables[${i}] ${ref.name}`, () => introspect(meta, ref, ref.keyColumns ? { keyColumns: ref.keyColumns } : {}), 'create the table, give it a primary key, or set keyColumns');
        if (!t) continue;
        report(true, `source table ${ref.name}`, `${t.columns.length} columns, key (${t.primaryKey.join(', ')})`);
        if (target && meta !== target) {
          const targetRef = ref.target ? tableRef(ref.target) : ref;
          const tt = await attempt(`target table ${targetRef.name}`, () => introspect(target, targetRef, { keyColumns: t.primaryKey }), 'create it on the target with the same columns');
          if (tt) {
            const missing = missingColumns(t, tt);
            report(missing.length === 0, `target table ${targetRef.name}`, missing.length ? `lacks column(s) ${missing.join(', ')}` : 'has every source column');
          }
        }
      }
    }
    if (cfg.transport.kind === 'kafka') {
      const k = cfg.transport;
      const topics = await attempt(`Kafka brokers ${k.brokers.join(',')}`, async () => {
        const admin = connectKafka({ ...kafkaConnection(k), connectionTimeout: 5000, retry: { retries: 1 } } as never, 'check').kafka.admin();
        await admin.connect();
        try { return await admin.listTopics(); } finally { await admin.disconnect(); }
      }, 'check transport.kafka.brokers, TLS/SASL settings and that the brokers run');
      if (topics) report(true, `Kafka brokers ${k.brokers.join(',')}`, topics.includes(k.topic) ? `topic ${k.topic} exists` : `topic ${k.topic} will be created with ${k.partitions} partitions`);
      if (cfg.registry.url) {
        const auth = registryAuth(cfg);
        const subjects = await attempt(`schema registry ${cfg.registry.url}`, () => new RegistryClient({ url: cfg.registry.url!, retries: 0, ...(auth ? { auth } : {}) }).listSubjects(), 'check registry.url and its credentials');
        if (subjects) report(true, `schema registry ${cfg.registry.url}`, `${subjects.length} subjects`);
      } else report(true, 'schema registry', `embedded, port ${cfg.registry.port}`);
    }
  } catch (err) {
    if (!isSluiceError(err)) throw err;
    report(false, 'check', err.message);
  } finally {
    for (const c of closers.reverse()) await c().catch(() => {});
  }
  console.log(failed ? `${failed} check(s) failed` : 'all checks passed');
  if (failed) process.exitCode = 1;
}

function missingColumns(source: TableSchema, target: TableSchema): string[] {
  return source.columns.filter((c) => !target.columns.some((t) => t.name === c.name)).map((c) => c.name);
}
