// Test support: a real Kafka cluster from dev/kafka (start.sh/stop.sh). One per test file by
// default; when SLUICE_TEST_KAFKA holds a bootstrap address (.ci/run may start one broker for the
// whole suite), that broker is reused and never stopped or restarted from here. Fault tests that
// restart or kill a broker ask for `dedicated: true` and always get their own.
// Without Java/Maven: skipped on a laptop, a failure in CI (services.ts: skipUnless).
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { hasCommand, skipUnless } from './services.js';

const run = promisify(execFile);
const devKafka = fileURLToPath(new URL('../../dev/kafka/', import.meta.url));

export interface KafkaCluster {
  /** "127.0.0.1:PORT[,…]" */
  readonly bootstrap: string;
  readonly brokers: string[];
  /** False for the shared SLUICE_TEST_KAFKA broker: stop() leaves it running, restart()/kill() throw. */
  readonly owned: boolean;
  /** Stops the cluster and deletes its data (no-op for a shared broker). */
  stop(): Promise<void>;
  /** SIGTERM, then start again on the same ports and data. */
  restart(): Promise<void>;
  /** SIGTERM; data and ports are kept for up(). restart() is down() then up(). */
  down(): Promise<void>;
  up(): Promise<void>;
  /** SIGKILL (a crash); data is kept, restart() brings it back. */
  kill(): Promise<void>;
}

/** False when a Kafka cluster can be started here; else why not (throws in CI, see skipUnless). */
export async function kafkaSkipReason(): Promise<string | false> {
  if (process.env.SLUICE_TEST_KAFKA) return false;
  const haveLibs = existsSync(`${devKafka}libs`) && readdirSync(`${devKafka}libs`).some((f) => f.startsWith('kafka_2.13-'));
  const ok = (await hasCommand('java')) && (haveLibs || (await hasCommand('mvn')));
  return skipUnless(ok, 'Java 17+ and Maven (for a Kafka broker from dev/kafka)');
}

/** The directory of the broker's jars (fetched on first use). */
export async function kafkaLibs(): Promise<string> {
  const { stdout } = await run('bash', [`${devKafka}libs.sh`], { timeout: 600_000 });
  return stdout.trim();
}

export async function startKafka(opts: { brokers?: 1 | 3; dedicated?: boolean } = {}): Promise<KafkaCluster> {
  const shared = process.env.SLUICE_TEST_KAFKA;
  if (shared && !opts.dedicated && (opts.brokers ?? 1) === 1) {
    const notOwned = async () => {
      throw new Error('the shared SLUICE_TEST_KAFKA broker cannot be restarted or killed; use startKafka({ dedicated: true })');
    };
    return {
      bootstrap: shared,
      brokers: shared.split(','),
      owned: false,
      stop: async () => {},
      restart: notOwned,
      down: notOwned,
      up: notOwned,
      kill: notOwned,
    };
  }
  const start = async (args: string[]) => {
    const { stdout } = await run('bash', [`${devKafka}start.sh`, ...args], { timeout: 600_000 });
    return Object.fromEntries(
      stdout
        .trim()
        .split('\n')
        .map((l) => l.split('=', 2) as [string, string]),
    );
  };
  const info = await start(['--brokers', String(opts.brokers ?? 1)]);
  const dir = info.DIR!;
  const bootstrap = info.BOOTSTRAP!;
  const stopScript = (...args: string[]) => run('bash', [`${devKafka}stop.sh`, '--dir', dir, ...args], { timeout: 120_000 });
  return {
    bootstrap,
    brokers: bootstrap.split(','),
    owned: true,
    stop: async () => void (await stopScript('--wipe')),
    restart: async () => {
      await stopScript();
      await start(['--dir', dir]);
    },
    down: async () => void (await stopScript()),
    up: async () => void (await start(['--dir', dir])),
    kill: async () => void (await stopScript('--kill')),
  };
}

let counter = 0;
/** A topic or group name no other test (or earlier run against a shared broker) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${++counter}`;
}

/** Polls `cond` until it holds; rejects after `timeoutMs` with `what` (no fixed sleeps in assertions). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
