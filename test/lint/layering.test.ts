// The layering rule of eslint.config.js (imports point one way between src/ folders) rejects an upward
// import. Each file in fixtures/ says where it is linted (`// lint as: src/…`) and what it expects
// (`// expect: <rule id>` or `// expect: nothing`); fixtures/ itself is ignored by `npm run lint`.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ESLint } from 'eslint';

const root = join(import.meta.dirname, '..', '..');
const fixtures = join(import.meta.dirname, 'fixtures');

function header(text: string, key: string): string {
  const m = new RegExp(`^// ${key}: (.+)$`, 'm').exec(text);
  assert.ok(m?.[1], `fixture has no "// ${key}:" line`);
  return m[1].trim();
}

describe('layering lint rule', () => {
  let eslint: ESLint;
  before(() => {
    eslint = new ESLint({ cwd: root });
  });

  const files = readdirSync(fixtures)
    .filter((f) => f.endsWith('.ts'))
    .sort();
  test('has fixtures for both outcomes', () => {
    const expects = files.map((f) => header(readFileSync(join(fixtures, f), 'utf8'), 'expect'));
    assert.ok(expects.includes('nothing'));
    assert.ok(expects.includes('import-x/no-restricted-paths'));
  });

  for (const file of files) {
    test(file, async () => {
      const code = readFileSync(join(fixtures, file), 'utf8');
      const filePath = join(root, header(code, 'lint as'));
      const expect = header(code, 'expect');
      const [result] = await eslint.lintText(code, { filePath });
      assert.ok(result);
      const found = result.messages.map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
      if (expect === 'nothing') {
        assert.deepEqual(found, []);
      } else {
        assert.equal(result.errorCount, 1, found.join('\n'));
        assert.equal(result.messages[0]?.ruleId, expect, found.join('\n'));
        assert.match(result.messages[0]?.message ?? '', /may not/);
      }
    });
  }

  test('the normal lint run ignores the fixtures', async () => {
    assert.equal(await eslint.isPathIgnored(join(fixtures, files[0] ?? 'x.ts')), true);
    assert.equal(await eslint.isPathIgnored(join(import.meta.dirname, 'layering.test.ts')), false);
  });
});
