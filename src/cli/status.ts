/** `sluice status -c cfg [--watch]`: a running pipeline's tables, partitions, lag and dead letters, read from its observe server. */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { SluiceError } from '../core/errors.js';
import { DEFAULT_OBSERVE_PORT } from '../observe/server.js';
import type { StatusDocument } from '../observe/status.js';

export const statusHelp = `Usage: sluice status -c <config.yaml> [--watch] [options]

What a running pipeline (sluice run with the same config) is doing: its state and readiness, per
table the changes captured, published and applied, what waits, dead letters, replication lag and
the lag at each stage (captured, published, applied), and with Kafka each partition's consumer
lag. Read from the pipeline's observe server (observe.host, observe.port).

Options:
  -c, --config <file>   the pipeline's config
  --url <url>           the observe server instead (e.g. when observe.port was not set and 9464 was taken)
  -w, --watch           refresh until Ctrl-C
  --interval <seconds>  refresh period with --watch (default 2)
  --json                the status document as JSON

Exit status (without --watch): 0 ready, 1 not ready, 2 unreachable or usage error.`;

function fmtLag(s: number): string {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${Math.round(s / 60)} min`;
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

/** The status document as text, with rates from the previous document when there is one. */
export function formatStatus(s: StatusDocument, prev?: { at: number; doc: StatusDocument }, now = Date.now()): string {
  const dt = prev ? (now - prev.at) / 1000 : 0;
  const rate = (table: string, cur: number) => {
    const before = prev?.doc.tables.find((t) => t.table === table)?.applied;
    return before === undefined || dt <= 0 ? '–' : `${Math.max(0, (cur - before) / dt).toFixed(1)}/s`;
  };
  const out = [
    `${s.pipeline}  ${s.state}${s.readiness.ready ? ', ready' : `, not ready: ${s.readiness.reasons.join('; ')}`}  transport ${s.transport ?? '?'}  lag ${fmtLag(s.lagSeconds)}`,
    `captured ${s.totals.captured}  published ${s.totals.published}  applied ${s.totals.applied}  skipped ${s.totals.skipped}  dead-lettered ${s.totals.deadLettered}  backlog ${s.totals.backlog}${s.consumerLag === null ? '' : `  consumer lag ${s.consumerLag}`}`,
    '',
    table(
      [
        'table',
        'topic',
        'target',
        'captured',
        'published',
        'applied',
        'rate',
        'waiting',
        'dead letters',
        'lag',
        'lag: captured',
        'published',
        'applied',
      ],
      s.tables.map((t) => [
        t.table,
        t.topic ?? '-',
        t.target ?? '-',
        String(t.captured),
        s.transport === 'kafka' ? String(t.published) : '-',
        String(t.applied),
        rate(t.table, t.applied),
        String(t.waiting),
        String(t.deadLettered),
        fmtLag(t.lagSeconds),
        // A pipeline of an earlier version sends no stage lags.
        t.stageLagSeconds ? fmtLag(t.stageLagSeconds.captured) : '-',
        t.stageLagSeconds?.published != null ? fmtLag(t.stageLagSeconds.published) : '-',
        t.stageLagSeconds ? fmtLag(t.stageLagSeconds.applied) : '-',
      ]),
    ),
  ];
  if (s.partitions.length) {
    out.push(
      '',
      table(
        ['topic', 'partition', 'high watermark', 'applied up to', 'lag'],
        s.partitions.map((p) => [
          p.topic,
          String(p.partition),
          p.highWatermark ?? '-',
          p.committed ?? '-',
          p.lag === null ? '-' : String(p.lag),
        ]),
      ),
    );
  }
  return out.join('\n');
}

export async function statusCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      url: { type: 'string' },
      watch: { type: 'boolean', short: 'w' },
      interval: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void console.log(statusHelp);
  let base = values.url;
  if (!base) {
    if (!values.config) throw new SluiceError('SLUICE_ERR_CONFIG', 'missing -c <config.yaml> (or --url of the observe server)');
    const cfg = await loadConfigFile(values.config);
    if (!cfg.observe.enabled)
      throw new SluiceError('SLUICE_ERR_CONFIG', 'observe.enabled is false: the pipeline serves no status', {
        context: { configPath: 'observe.enabled' },
      });
    const host = cfg.observe.host === '0.0.0.0' || cfg.observe.host === '::' ? '127.0.0.1' : cfg.observe.host;
    base = `http://${host.includes(':') ? `[${host}]` : host}:${cfg.observe.port ?? DEFAULT_OBSERVE_PORT}`;
  }
  const interval = Number(values.interval ?? 2);
  if (!(interval > 0)) throw new SluiceError('SLUICE_ERR_CONFIG', '--interval is a number of seconds above 0');
  const read = async (): Promise<StatusDocument> => {
    try {
      const res = await fetch(`${base}/api/status`, { signal: AbortSignal.timeout(5_000) });
      if (!res.ok) throw new Error(`answered ${res.status}`);
      return (await res.json()) as StatusDocument;
    } catch (err) {
      throw new SluiceError(
        'SLUICE_ERR_CONFIG',
        `observe.port: no pipeline answers at ${base} (${(err as Error).message}); is sluice run going with this config?`,
        { context: { configPath: 'observe.port' } },
      );
    }
  };
  if (!values.watch) {
    const doc = await read();
    console.log(values.json ? JSON.stringify(doc, null, 2) : formatStatus(doc));
    if (!doc.readiness.ready) process.exitCode = 1;
    return;
  }
  let prev: { at: number; doc: StatusDocument } | undefined;
  for (;;) {
    const at = Date.now();
    let text: string;
    try {
      const doc = await read();
      text = values.json ? JSON.stringify(doc) : formatStatus(doc, prev, at);
      prev = { at, doc };
    } catch (err) {
      text = `sluice: ${(err as Error).message}`;
    }
    // Redrawn in place on a terminal; one document per refresh when piped.
    if (process.stdout.isTTY && !values.json) process.stdout.write(`\x1b[H\x1b[2J${text}\n`);
    else console.log(text);
    await new Promise((r) => setTimeout(r, interval * 1000));
  }
}
