// Writes docs/config.md from the zod config spec: npm run docs
import { writeFileSync } from 'node:fs';
import { configReference } from '../src/config/reference.js';

writeFileSync(new URL('../docs/config.md', import.meta.url), configReference());
console.log('wrote docs/config.md');
