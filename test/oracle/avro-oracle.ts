/**
 * Runs the Java compatibility oracle (Oracle.java: Avro 1.11.4's SchemaCompatibility) on many
 * (reader, writer) pairs in one JVM. build.sh builds it on first use; later runs find it built.
 * `prepareOracle()` says whether it can run here; `runOracle()` sends every pair in one go.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export interface OraclePair {
  id: number;
  reader: string;
  writer: string;
}

export interface OracleVerdict {
  id: number;
  /** Set when Avro refuses one of the two schemas ("reader: ..." or "writer: ..."). */
  parseError?: string;
  compatible?: boolean;
  /** Avro's SchemaIncompatibilityType names; "EXCEPTION" when the checker threw. */
  types?: string[];
  locations?: string[];
  messages?: string[];
}

export type OracleStatus = { ok: true; command: string[] } | { ok: false; missingTool: boolean; reason: string };

/** Builds the oracle if needed (fast when built) and returns the command that runs it. */
export function prepareOracle(): OracleStatus {
  // Maven is only needed to build; build.sh says so (exit 127) when it must build and cannot.
  const probe = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (probe.error) return { ok: false, missingTool: true, reason: `'java' is not available (${probe.error.message})` };
  const build = spawnSync('bash', [join(here, 'build.sh')], { encoding: 'utf8' });
  if (build.status !== 0) {
    return {
      ok: false,
      missingTool: build.status === 127,
      reason: `test/oracle/build.sh failed (${build.status}):\n${build.stdout}${build.stderr}`,
    };
  }
  const classpath = readFileSync(join(here, 'target', 'classpath.txt'), 'utf8').trim();
  return {
    ok: true,
    command: [
      'java',
      '-XX:+UseSerialGC',
      '-Xshare:auto',
      '-cp',
      [join(here, 'target', 'oracle.jar'), classpath].join(':'),
      'sluice.oracle.Oracle',
    ],
  };
}

/** Sends all pairs to one JVM and returns its verdicts by id. */
export async function runOracle(command: string[], pairs: OraclePair[], timeoutMs = 120_000): Promise<Map<number, OracleVerdict>> {
  const [exe, ...args] = command;
  const child = spawn(exe!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  child.stdin.end(pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
  const code = await exited.finally(() => clearTimeout(timer));
  if (code !== 0) throw new Error(`oracle exited with ${code}:\n${stderr.slice(0, 4000)}`);
  const out = new Map<number, OracleVerdict>();
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const verdict = JSON.parse(line) as OracleVerdict;
    out.set(verdict.id, verdict);
  }
  return out;
}
