/**
 * The Slack incoming-webhook payload for a reconcile run: `text` (the notification and fallback)
 * plus Block Kit `blocks`. Pure; sending is in ./index.ts; the shape is shown in
 * docs/reconcile-alerts.md.
 *
 * Slack limits kept here: a header's text ≤ 150 characters, a section's text ≤ 3000, ≤ 50 blocks
 * per message. Every string from the report (table names, keys, errors) is escaped (&, <, >), so a
 * key such as `<!channel>` cannot ping anyone or turn into a link.
 */
import { confirmedDrift, type DriftKind, type ReconcileReport, type TableReport } from '../report.js';
import { alertSummary, DEFAULT_TOP_KEYS, describeRepair, isNotable, keyCount } from './webhook.js';

export interface SlackPayload {
  text: string;
  blocks: unknown[];
}

/** Tables given their own blocks (two each); the rest are counted, keeping under 50 blocks. */
const SLACK_TABLES = 10;
const HEADER_MAX = 150;
const SECTION_MAX = 3000;
/** A key longer than this is cut in the alert (the report keeps it whole). */
const KEY_MAX = 80;

export function slackPayload(report: ReconcileReport, topKeys: number = DEFAULT_TOP_KEYS): SlackPayload {
  const n = keyCount(topKeys);
  const notable = report.tables.filter(isNotable);
  const drifted = report.tables.filter((t) => !t.error && confirmedDrift(t) > 0).length;
  const failed = report.tables.filter((t) => t.error !== undefined).length;
  const inSync = report.tables.length - notable.length;

  const blocks: unknown[] = [];
  const title = failed > 0 && drifted === 0 ? `Reconcile failed: ${report.name}` : `Reconcile drift: ${report.name}`;
  blocks.push({ type: 'header', text: { type: 'plain_text', text: cut(title, HEADER_MAX), emoji: true } });

  const overview = [`Confirmed drift in *${drifted}* of ${report.tables.length} table${report.tables.length === 1 ? '' : 's'}`];
  if (failed > 0) overview.push(`*${failed}* failed`);
  if (report.repairRequested) overview.push('repair requested');
  blocks.push(section(`*${escapeMrkdwn(report.name)}*: ${overview.join(', ')}`));

  for (const t of notable.slice(0, SLACK_TABLES)) {
    blocks.push(section(tableText(t)));
    const keys = keysText(t, n);
    if (keys) blocks.push(section(keys));
  }
  if (notable.length > SLACK_TABLES)
    blocks.push(
      section(`…and ${notable.length - SLACK_TABLES} more table${notable.length - SLACK_TABLES === 1 ? '' : 's'} (see the report)`),
    );

  const context = [
    report.id === undefined ? 'report not saved' : `report ${report.id}`,
    `run ${(report.durationMs / 1000).toFixed(1)} s`,
    `started ${report.startedAt}`,
    `${inSync} table${inSync === 1 ? '' : 's'} in sync`,
  ];
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(context.join(' · ')) }] });

  return { text: escapeMrkdwn(alertSummary(report)), blocks };
}

/** Slack's mrkdwn escaping: only these three characters are control characters. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function tableText(t: TableReport): string {
  const head = `*${escapeMrkdwn(t.table)}* → ${escapeMrkdwn(t.target)}`;
  if (t.error !== undefined) return cut(`${head}\n:x: failed: ${escapeMrkdwn(t.error)}`, SECTION_MAX);
  const counts = `missing *${t.missing}* · extra *${t.extra}* · different *${t.different}* · in flight *${t.inFlight}*`;
  return cut(`${head}\n${counts}\n${escapeMrkdwn(describeRepair(t.repair))}`, SECTION_MAX);
}

/** Top keys of each kind as a code block, or '' when there are none to show. */
function keysText(t: TableReport, n: number): string {
  if (n === 0) return '';
  const lines: string[] = [];
  for (const kind of ['missing', 'extra', 'different', 'inFlight'] as const) {
    const keys = t.keys[kind];
    if (keys.length === 0) continue;
    const shown = keys.slice(0, n).map((k) => codeSafe(escapeMrkdwn(cut(k, KEY_MAX))));
    const more = countOf(t, kind) - shown.length;
    lines.push(`${(kind === 'inFlight' ? 'in flight' : kind).padEnd(10)}${shown.join(', ')}${more > 0 ? `, … (${more} more)` : ''}`);
  }
  if (lines.length === 0) return '';
  // The closing fence must survive the cut, so cut the body.
  return '```' + cut(lines.join('\n'), SECTION_MAX - 6) + '```';
}

function countOf(t: TableReport, kind: DriftKind | 'inFlight'): number {
  return kind === 'inFlight' ? t.inFlight : t[kind];
}

/** A key holding ``` would close the code block early: break the run with zero-width spaces. */
function codeSafe(s: string): string {
  return s.replace(/```/g, '`\u200b`\u200b`');
}

function section(text: string): unknown {
  return { type: 'section', text: { type: 'mrkdwn', text: cut(text, SECTION_MAX) } };
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
