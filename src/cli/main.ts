#!/usr/bin/env node
/** The `sluice` command: one file per subcommand, each a thin shell over the library. */
import { registryCommand, registryHelp } from './registry.js';
import { runCommand, runHelp } from './run.js';
import { quickstartCommand, quickstartHelp } from './quickstart.js';
import { dlqCommand, dlqHelp } from './dlq.js';
import { checkCommand, checkHelp } from './check.js';
import { dashboardCommand, dashboardHelp } from './dashboard.js';
import { reconcileCommand, reconcileHelp } from './reconcile.js';
import { slotCommand, slotHelp } from './slot.js';
import { snapshotCommand, snapshotHelp } from './snapshot.js';
import { schemaCommand, schemaHelp } from './schema.js';
import { statusCommand, statusHelp } from './status.js';
import { readFileSync } from 'node:fs';
import { SluiceError } from '../core/errors.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; help: string; summary: string }> = {
  run: { run: runCommand, help: runHelp, summary: 'run the pipeline a config describes' },
  quickstart: { run: quickstartCommand, help: quickstartHelp, summary: 'the whole pipeline on embedded defaults, with a demo workload' },
  check: { run: checkCommand, help: checkHelp, summary: 'validate a config and connect to everything it names' },
  reconcile: { run: reconcileCommand, help: reconcileHelp, summary: 'compare source and target, repair drift, report and alert' },
  dlq: { run: dlqCommand, help: dlqHelp, summary: 'list, show, replay or skip dead-lettered changes' },
  registry: { run: registryCommand, help: registryHelp, summary: 'run a Confluent-compatible schema registry (Avro)' },
  status: { run: statusCommand, help: statusHelp, summary: "a running pipeline's tables, partitions, lag and dead letters (--watch)" },
  dashboard: { run: dashboardCommand, help: dashboardHelp, summary: 'serve the dashboard of a running pipeline, apart from it' },
  slot: { run: slotCommand, help: slotHelp, summary: "status or deliberate drop of the PostgreSQL source's replication slot" },
  snapshot: { run: snapshotCommand, help: snapshotHelp, summary: 'ask the running pipeline to re-read a table while it streams (repair)' },
  schema: { run: schemaCommand, help: schemaHelp, summary: "the history of the source tables' shapes (columns added, dropped)" },
};

/** From package.json, which sits two levels above this file both in src/cli and in dist/cli. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const usage = `Usage: sluice <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run "sluice <command> --help" for a command's options; "sluice --version" prints the version.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(version());
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage);
    return name ? 0 : 1;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`sluice: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  await cmd.run(rest);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code) process.exitCode = code;
  },
  (err: unknown) => {
    // A user error gets its message, never a stack trace; anything else is a bug and shows it.
    if (err instanceof SluiceError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`sluice: ${(err as Error).message}`);
      process.exitCode = 2;
    } else {
      console.error(err);
      process.exitCode = 1;
    }
  },
);
