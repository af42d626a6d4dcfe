#!/usr/bin/env node
// Runs every benchmark in bench/ (or those whose name contains an argument) one after the other,
// each in its own process; each prints JSON lines and one markdown line of ratios.
// Usage: npm run bench [-- codec registry]
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const filters = process.argv.slice(2);
const files = readdirSync('bench')
  .filter((f) => f.endsWith('.ts') && (filters.length === 0 || filters.some((x) => f.includes(x))))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`\n## ${f}`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', `bench/${f}`], { stdio: 'inherit' });
  if (res.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
