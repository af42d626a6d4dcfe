/**
 * `sluice check -c sluice.yaml`: validates the config, then connects to everything it names and
 * says, per item, what is wrong and how to fix it. Exit 0 only when every check passed.
 */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { sourceConnection } from '../config/schema.js';
import { openConnection } from '../pipeline/connections.js';
import { kafkaConnection, registryAuth, tableRef } from '../pipeline/run.js';
import { introspect } from '../metadata/index.js';
import { checkTargetTable, introspectTarget } from '../apply/table-check.js';
import { connectorNamed } from '../capture/connectors.js';
import { RegistryClient } from '../registry/client.js';
import { connect as connectKafka } from '../transport/kafka/options.js';
import { isSluiceError } from '../core/errors.js';
import type { TableSchema } from '../core/table-schema.js';

export const checkHelp = `Usage: sluice check -c <config.yaml>

Validates the config (errors name the key path), then checks that sluice can reach the source
and target databases, that every table exists with a primary key (or configured keyColumns) and
that the target table has the source's columns and key (the same check \`sluice run\` makes), that
the Kafka brokers and the schema registry answer. Prints one line per check with how to fix a failure; exits 1 if any failed.`;

export async function checkCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return void console.log(checkHelp);
  if (!values.config)
    throw Object.assign(new Error('missing -c <config.yaml> (see sluice check --help)'), { code: 'ERR_PARSE_ARGS_MISSING' });
  let failed = 0;
  const report = (ok: boolean, what: string, detail = '') => {
    if (!ok) failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'}  ${what}${detail ? `: ${detail}` : ''}`);
  };
  const cfg = await loadConfigFile(values.config);
  report(true, `config ${values.config}`);
  const attempt = async <T>(what: string, fn: () => Promise<T>, hint: string | ((err: unknown) => string)): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      const h = typeof hint === 'function' ? hint(err) : hint;
      report(false, what, `${(err as Error).message}${h ? ` (${h})` : ''}`);
      return undefined;
    }
  };
  const closers: Array<() => Promise<void>> = [];
  try {
    const target = await attempt(
      'target database',
      () => openConnection(cfg.target.connection, 'target.connection'),
      (err) => connectionHint(err, 'target.connection'),
    );
    if (target) {
      closers.push(() => target.close());
      report(true, `target database ${target.describe}`);
    }
    const declared = sourceConnection(cfg.source);
    const source = declared
      ? await attempt(
          'source database',
          () => openConnection(declared, 'source.connection'),
          (err) => connectionHint(err, 'source.connection'),
        )
      : undefined;
    if (source) {
      closers.push(() => source.close());
      report(true, `source database ${source.describe}`);
    }
    const meta = source ?? target;
    const tables: TableSchema[] = [];
    if (meta) {
      for (const [i, spec] of cfg.source.tables.entries()) {
        const ref = tableRef(spec);
        const t = await attempt(
          `source.tables[${i}] ${ref.name}`,
          () => introspect(meta, ref, ref.keyColumns ? { keyColumns: ref.keyColumns } : {}),
          'create the table, give it a primary key, or set keyColumns',
        );
        if (!t) continue;
        tables.push(t);
        report(true, `source table ${ref.name}`, `${t.columns.length} columns, key (${t.primaryKey.join(', ')})`);
        if (target && meta !== target) {
          const targetRef = ref.target ? tableRef(ref.target) : ref;
          const tt = await attempt(
            `target table ${targetRef.name}`,
            () => introspectTarget(target, targetRef, t.primaryKey),
            'create it on the target with the same columns',
          );
          if (tt) {
            // The sink's own check, so that what passes here is what `sluice run` accepts.
            const fits = await attempt(
              `target table ${targetRef.name}`,
              async () => {
                checkTargetTable(t, tt);
                return true;
              },
              "give the target table the source's columns and primary key",
            );
            if (fits) report(true, `target table ${targetRef.name}`, `has every source column, key (${tt.primaryKey.join(', ')})`);
          }
        }
      }
    }
    // The connector's own prerequisites (log capture: server settings, rights, publication).
    const connector = connectorNamed(cfg.source.connector);
    if (connector.check && source && tables.length === cfg.source.tables.length) {
      const problems = await connector.check(cfg.source, { pipeline: cfg.name, tables, database: source });
      for (const p of problems) report(false, p.configPath ?? 'source', `${p.message}. Fix: ${p.fix}`);
      if (problems.length === 0) report(true, `source ${cfg.source.connector} prerequisites`, 'settings, rights and publication in place');
    }
    if (cfg.transport.kind === 'kafka') {
      const k = cfg.transport;
      const topics = await attempt(
        `Kafka brokers ${k.brokers.join(',')}`,
        async () => {
          const admin = connectKafka(
            { ...kafkaConnection(k), connectionTimeout: 5000, retry: { retries: 1 } } as never,
            'check',
          ).kafka.admin();
          await admin.connect();
          try {
            return await admin.listTopics();
          } finally {
            await admin.disconnect();
          }
        },
        'check transport.brokers, transport.ssl, transport.sasl and that the brokers run',
      );
      if (topics)
        report(
          true,
          `Kafka brokers ${k.brokers.join(',')}`,
          topics.includes(k.topic) ? `topic ${k.topic} exists` : `topic ${k.topic} will be created with ${k.partitions} partitions`,
        );
      if (cfg.registry.url) {
        const auth = registryAuth(cfg);
        const subjects = await attempt(
          `schema registry ${cfg.registry.url}`,
          () => new RegistryClient({ url: cfg.registry.url!, retries: 0, ...(auth ? { auth } : {}) }).listSubjects(),
          'check registry.url and its credentials',
        );
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

/**
 * What to do about a connection that failed, from the driver's own error: a server that is up but
 * lacks the database, refuses the credentials, or does not answer at all are three different fixes.
 */
function connectionHint(err: unknown, key: string): string {
  const cause = (err as { cause?: { code?: unknown; errno?: unknown; message?: unknown } }).cause ?? {};
  const code = String(cause.code ?? '');
  const message = String(cause.message ?? '');
  // PostgreSQL 3D000; MariaDB/MySQL ER_BAD_DB_ERROR (1049).
  if (code === '3D000' || code === 'ER_BAD_DB_ERROR' || cause.errno === 1049) {
    const db = /database "?'?([^"']+)["']? does not exist|Unknown database '([^']+)'/i.exec(message);
    const name = db?.[1] ?? db?.[2];
    return `the server is up but has no database${name ? ` "${name}"` : ''}: create it, or fix the database name in ${key}.url`;
  }
  // PostgreSQL 28P01/28000; MariaDB/MySQL ER_ACCESS_DENIED_ERROR (1045), ER_DBACCESS_DENIED_ERROR (1044).
  if (code === '28P01' || code === '28000' || code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR') {
    return `the server is up but refused the user or password: check the credentials in ${key}.url`;
  }
  return `check ${key}.url and that the server runs`;
}
