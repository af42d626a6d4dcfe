#!/usr/bin/env node
// Part of `npm run build`: copies the dashboard's files (src/observe/ui) next to the compiled
// observe server (dist/observe/ui) and vendors uPlot into dist/observe/ui/vendor, so the npm
// package serves the dashboard offline with no build step and no CDN.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const from = 'src/observe/ui';
const to = 'dist/observe/ui';
mkdirSync(join(to, 'vendor'), { recursive: true });
for (const f of readdirSync(from)) copyFileSync(join(from, f), join(to, f));
const uplot = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));
for (const f of ['uPlot.iife.min.js', 'uPlot.min.css', '../LICENSE'])
  copyFileSync(join(uplot, f), join(to, 'vendor', f === '../LICENSE' ? 'uPlot.LICENSE' : f));
