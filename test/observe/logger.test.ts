// Log output on a terminal is one readable line per entry and never lands on the live progress
// line; off a terminal (or when asked) it is one JSON object per line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, drawLiveLine, endLiveLine } from '../../src/observe/logger.js';

/** Collects what is written, and replays it as a terminal would show it. */
function fakeTerminal(isTTY: boolean) {
  const writes: string[] = [];
  return {
    isTTY,
    writes,
    write(s: string) {
      writes.push(s);
      return true;
    },
    screen(): string[] {
      const lines: string[] = [''];
      let col = 0;
      const text = writes.join('');
      for (let i = 0; i < text.length; i++) {
        const ch = text[i]!;
        if (ch === '\r') col = 0;
        else if (ch === '\n') {
          lines.push('');
          col = 0;
        } else if (text.startsWith('\x1b[2K', i)) {
          lines[lines.length - 1] = '';
          i += 3;
        } else if (ch === '\x1b') {
          while (i + 1 < text.length && !/[A-Za-z]/.test(text[i + 1]!)) i++;
          i++;
        } else {
          const cur = lines[lines.length - 1]!;
          lines[lines.length - 1] = cur.slice(0, col) + ch + cur.slice(col + 1);
          col++;
        }
      }
      return lines;
    },
  };
}

test('on a terminal, a log entry is a readable line printed above the live line, which is drawn again', () => {
  const term = fakeTerminal(true);
  const log = createLogger({ stream: term, level: 'info' });
  drawLiveLine(term, 'captured 10  applied 9');
  log.warn({ table: 'coupon', err: new Error('connection reset') }, 'apply failed, retrying');
  drawLiveLine(term, 'captured 12  applied 12');
  log.info('stopping');
  endLiveLine();
  const screen = term.screen();
  assert.equal(screen.length, 4, JSON.stringify(screen));
  assert.match(screen[0]!, /^\d\d:\d\d:\d\d\.\d{3} WARN  apply failed, retrying {2}table=coupon err="connection reset"$/);
  assert.match(screen[1]!, /^\d\d:\d\d:\d\d\.\d{3} INFO  stopping$/);
  assert.equal(screen[2], 'captured 12  applied 12');
  assert.equal(screen[3], '');
  assert.ok(!term.writes.join('').includes('"level"'), 'no JSON on a terminal');
});

test('off a terminal, or with SLUICE_LOG_FORMAT=json, each entry is one JSON object per line', () => {
  const pipe = fakeTerminal(false);
  createLogger({ stream: pipe }).info({ tables: 2 }, 'running');
  const entry = JSON.parse(pipe.writes.join('')) as Record<string, unknown>;
  assert.equal(entry.msg, 'running');
  assert.equal(entry.tables, 2);

  const term = fakeTerminal(true);
  const before = process.env.SLUICE_LOG_FORMAT;
  process.env.SLUICE_LOG_FORMAT = 'json';
  try {
    createLogger({ stream: term }).info('running');
  } finally {
    if (before === undefined) delete process.env.SLUICE_LOG_FORMAT;
    else process.env.SLUICE_LOG_FORMAT = before;
  }
  assert.equal((JSON.parse(term.writes.join('')) as { msg: string }).msg, 'running');
  const forced = fakeTerminal(false);
  createLogger({ stream: forced, format: 'pretty' }).info('running');
  assert.match(forced.writes.join(''), /^\d\d:\d\d:\d\d\.\d{3} INFO  running\n$/);
});

test('secrets stay redacted in the readable format', () => {
  const term = fakeTerminal(true);
  createLogger({ stream: term }).info({ registry: { password: 'hunter2' } }, 'registry');
  const out = term.writes.join('');
  assert.ok(!out.includes('hunter2'), out);
  assert.match(out, /\[redacted\]/);
});
