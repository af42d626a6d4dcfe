/**
 * Differential test: the TypeScript checker against Apache Avro Java 1.11.4's SchemaCompatibility
 * (test/oracle), on thousands of generated (reader, writer) pairs sent to one JVM. Verdicts must be
 * the same for every pair; so must the incompatibility types, locations and details.
 *
 * Needs a JDK 17+ and Maven (the first run downloads Avro into ~/.m2; later runs are offline).
 * With CI=true a missing toolchain fails the test; elsewhere it skips with the reason.
 * SLUICE_COMPAT_SEED / SLUICE_COMPAT_PAIRS change the seed and count to explore further.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAvroSchema, type AvroNode } from '../../../src/registry/avro/schema-model.js';
import { checkReaderWriter, type Incompatibility } from '../../../src/registry/compatibility/index.js';
import { prepareOracle, runOracle, type OracleVerdict } from '../../oracle/avro-oracle.js';
import { generatePairs, MUTATIONS, type SchemaPair } from './schema-pairs.js';

const SEED = Number(process.env.SLUICE_COMPAT_SEED ?? 20240611);
const COUNT = Number(process.env.SLUICE_COMPAT_PAIRS ?? 3000);
const SHOW = 5;

const oracle = prepareOracle();
const inCi = process.env.CI === 'true' || process.env.CI === '1';
const skip = !oracle.ok && !inCi ? `Java compatibility oracle unavailable, differential test skipped: ${oracle.reason}` : false;

test(
  'the TypeScript checker agrees with Avro Java 1.11.4 SchemaCompatibility on generated pairs',
  { skip, timeout: 600_000 },
  async (t) => {
    if (!oracle.ok) assert.fail(`CI=true and the Java compatibility oracle cannot run: ${oracle.reason}`);

    const pairs = generatePairs(SEED, COUNT);
    const verdicts = await runOracle(oracle.command, pairs);
    assert.equal(verdicts.size, pairs.length, 'the oracle answered every pair');

    const generatorBugs: string[] = [];
    const verdictDisagreements: string[] = [];
    const detailDisagreements: string[] = [];
    const javaTypes = new Map<string, number>();
    const mutationsSeen = new Set<string>();
    let compatible = 0;

    for (const pair of pairs) {
      const java = verdicts.get(pair.id)!;
      if (java.parseError !== undefined) {
        generatorBugs.push(`${java.parseError}\n${show(pair)}`);
        continue;
      }
      pair.how.forEach((m) => mutationsSeen.add(m));
      for (const type of java.types ?? []) javaTypes.set(type, (javaTypes.get(type) ?? 0) + 1);
      if (java.compatible) compatible++;

      let ours: Incompatibility[];
      try {
        ours = checkReaderWriter(parse(pair.reader), parse(pair.writer));
      } catch (err) {
        verdictDisagreements.push(
          `sluice threw where Avro answered compatible=${java.compatible}: ${(err as Error).message}\n${show(pair)}`,
        );
        continue;
      }
      if ((ours.length === 0) !== java.compatible) {
        verdictDisagreements.push(
          `Avro: compatible=${java.compatible} ${JSON.stringify(java.types)}; sluice: ${describe(ours)}\n${show(pair)}`,
        );
        continue;
      }
      const theirs = javaIncompatibilities(java);
      const mine = ours.map((i) => (i.type === 'AMBIGUOUS_READER_FIELD' ? 'EXCEPTION' : `${i.type} ${i.location} ${i.detail}`));
      if (JSON.stringify(mine) !== JSON.stringify(theirs)) {
        detailDisagreements.push(`Avro: ${JSON.stringify(theirs)}\nsluice: ${JSON.stringify(mine)}\n${show(pair)}`);
      }
    }

    t.diagnostic(
      `${pairs.length} pairs (seed ${SEED}): ${compatible} compatible; Avro reported ${JSON.stringify(Object.fromEntries(javaTypes))}`,
    );

    assert.deepEqual(generatorBugs.slice(0, SHOW), [], `${generatorBugs.length} generated schemas were refused by Avro (a generator bug)`);
    assert.deepEqual(verdictDisagreements.slice(0, SHOW), [], `${verdictDisagreements.length} verdict disagreements with Avro`);
    assert.deepEqual(
      detailDisagreements.slice(0, SHOW),
      [],
      `${detailDisagreements.length} pairs with the same verdict but other incompatibilities than Avro's`,
    );

    // The generator must keep covering what the test is for, or a passing run proves little.
    assert.ok(
      compatible > pairs.length * 0.2 && compatible < pairs.length * 0.8,
      `a useful mix of verdicts (${compatible} of ${pairs.length} compatible)`,
    );
    for (const type of [
      'NAME_MISMATCH',
      'FIXED_SIZE_MISMATCH',
      'MISSING_ENUM_SYMBOLS',
      'READER_FIELD_MISSING_DEFAULT_VALUE',
      'TYPE_MISMATCH',
      'MISSING_UNION_BRANCH',
      'EXCEPTION',
    ]) {
      assert.ok((javaTypes.get(type) ?? 0) >= 5, `the pairs exercise ${type} (seen ${javaTypes.get(type) ?? 0} times)`);
    }
    const unused = MUTATIONS.filter((m) => !mutationsSeen.has(m));
    assert.deepEqual(unused, [], 'every kind of mutation was applied at least once');
  },
);

function parse(text: string): AvroNode {
  return parseAvroSchema(text, { validateDefaults: true }).root;
}

function javaIncompatibilities(v: OracleVerdict): string[] {
  const types = v.types ?? [];
  return types.map((type, i) => (type === 'EXCEPTION' ? 'EXCEPTION' : `${type} ${v.locations?.[i]} ${v.messages?.[i]}`));
}

function describe(incs: Incompatibility[]): string {
  return incs.length === 0 ? 'compatible' : incs.map((i) => `${i.type} at ${i.location} (${i.detail})`).join('; ');
}

function show(pair: SchemaPair): string {
  return `  pair ${pair.id} [${pair.how.join(', ') || 'identical'}]\n  reader: ${pair.reader}\n  writer: ${pair.writer}`;
}
