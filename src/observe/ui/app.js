/* The sluice dashboard: plain DOM, data from the observe server's JSON API (polled every 2 s),
 * charts drawn by uPlot (served from this server, no CDN). Every value from the API is written with
 * textContent, never as HTML: dead letters carry arbitrary row data. */
/* global uPlot, document, window, location, Node, confirm */
'use strict';

const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('sluice.token') || '';
let status = null;
let tab = 'overview';
let selectedDl = null;
const charts = {};
let historySince = 0;
const history = [];

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c)));
  return e;
}

async function api(path, opts = {}) {
  const headers = { accept: 'application/json' };
  if (opts.method === 'POST') {
    headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
  }
  const res = await fetch(path, {
    ...opts,
    headers,
    body: opts.body === undefined ? (opts.method === 'POST' ? '{}' : undefined) : JSON.stringify(opts.body),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(body.error || `${res.status}`), { status: res.status, body });
  return body;
}

function fmtLag(s) {
  if (s == null) return '–';
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${Math.round(s / 60)} min`;
}
const fmtN = (n) => (n == null ? '–' : Number(n).toLocaleString('en-US'));

function setTab(name) {
  tab = name;
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== `tab-${name}`;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.tab === name);
  refreshTab();
}

function refreshTab() {
  if (tab === 'dead-letters') loadDeadLetters();
  if (tab === 'reconcile') loadReconcile();
  if (tab === 'registry') {
    loadRegistry();
    loadSchemaHistory();
  }
  if (tab === 'snapshots') loadSnapshots();
  if (tab === 'messages') window.sluiceMessages.loadTopics();
}

// --- overview -----------------------------------------------------------------------------------

function renderStatus() {
  const s = status;
  $('pipeline-name').textContent = s.pipeline;
  const st = $('state');
  st.textContent = s.state;
  st.className = `badge ${s.state}`;
  const r = $('readiness');
  r.hidden = s.readiness.ready;
  r.textContent = s.readiness.ready ? '' : `Not ready: ${s.readiness.reasons.join('; ')}`;
  const tiles = $('tiles');
  tiles.replaceChildren(
    ...[
      ['captured', fmtN(s.totals.captured)],
      ['published', s.transport === 'kafka' ? fmtN(s.totals.published) : '–'],
      ['applied', fmtN(s.totals.applied)],
      ['skipped (version guard)', fmtN(s.totals.skipped)],
      ['dead-lettered', fmtN(s.totals.deadLettered)],
      ['source backlog', fmtN(s.totals.backlog)],
      ['replication lag', fmtLag(s.lagSeconds)],
      ...(s.consumerLag != null ? [['consumer lag', fmtN(s.consumerLag)]] : []),
    ].map(([k, v]) => el('div', { class: 'tile' }, el('b', {}, v), el('span', {}, k))),
  );
  const body = $('topology').tBodies[0];
  body.replaceChildren(
    ...s.tables.map((t) => {
      const health = t.deadLettered > 0 || t.lagSeconds > 60 ? 'bad' : t.lagSeconds > 5 ? 'warn' : 'ok';
      return el(
        'tr',
        { 'data-table': t.table },
        el('td', {}, el('span', { class: health }, '● '), t.table),
        el('td', {}, fmtN(t.captured)),
        el('td', { class: 'arrow' }, '→'),
        el('td', {}, t.topic || '(direct)'),
        el('td', {}, s.transport === 'kafka' ? fmtN(t.published) : '–'),
        el('td', { class: 'arrow' }, '→'),
        el('td', {}, t.target || ''),
        el('td', {}, fmtN(t.applied)),
        el('td', {}, fmtN(t.waiting)),
        el('td', { class: t.deadLettered ? 'bad' : '' }, fmtN(t.deadLettered)),
        el('td', { class: health }, fmtLag(t.lagSeconds)),
        ...stageCells(t.stageLagSeconds),
      );
    }),
  );
  $('partitions-box').hidden = s.partitions.length === 0;
  $('partitions').tBodies[0].replaceChildren(
    ...s.partitions.map((p) =>
      el(
        'tr',
        {},
        el('td', {}, p.topic),
        el('td', {}, p.partition),
        el('td', {}, p.highWatermark ?? '–'),
        el('td', {}, p.committed ?? '–'),
        el('td', {}, fmtN(p.lag)),
      ),
    ),
  );
  const lat = s.latency;
  const lb = $('latency').tBodies[0];
  if (lat && lat.count > 0) {
    let prev = 0;
    const rows = lat.buckets
      .map((b) => {
        const n = b.count - prev;
        prev = b.count;
        return { le: b.le, n };
      })
      .filter((b) => b.n > 0);
    const max = Math.max(...rows.map((r) => r.n));
    lb.replaceChildren(
      ...rows.map((r) =>
        el(
          'tr',
          {},
          el('td', {}, `≤ ${r.le === '+Inf' ? '∞' : fmtLag(Number(r.le))}`),
          el('td', { class: 'bar' }, el('div', { style: `width:${Math.max(1, (r.n / max) * 100)}%` })),
          el('td', {}, fmtN(r.n)),
        ),
      ),
    );
  } else lb.replaceChildren(el('tr', {}, el('td', {}, 'no change applied yet')));
  $('dl-count').textContent = s.totals.deadLettered > 0 ? String(s.totals.deadLettered) : '';
  const noToken = !s.tokenConfigured;
  for (const id of ['dl-replay', 'dl-skip', 'rc-start', 'rc-repair', 'sn-start'])
    $(id).title = noToken ? 'observe.token is not set: actions are disabled' : '';
}

/** One cell per stage; a pipeline without Kafka has no published stage, and one of an earlier version sends none. */
function stageCells(l) {
  return ['captured', 'published', 'applied'].map((stage) => {
    const v = l ? l[stage] : null;
    return el('td', { 'data-stage': stage, class: v > 60 ? 'bad' : v > 5 ? 'warn' : '' }, v == null ? '–' : fmtLag(v));
  });
}

function chart(id, title, series, data) {
  const box = $(id);
  const width = Math.max(300, box.clientWidth - 2);
  const key = `${id}:${series.join('|')}`;
  if (!charts[id] || charts[id].key !== key) {
    if (charts[id]) charts[id].plot.destroy();
    const colors = ['#4f46e5', '#059669', '#d97706', '#dc2626', '#0891b2', '#7c3aed', '#65a30d'];
    const plot = new uPlot(
      {
        width,
        height: 220,
        title,
        scales: { x: { time: true } },
        series: [{}, ...series.map((name, i) => ({ label: name, stroke: colors[i % colors.length], width: 1.5 }))],
        axes: [{}, { size: 60 }],
      },
      data,
      box,
    );
    charts[id] = { plot, key };
  } else charts[id].plot.setData(data);
}

function renderCharts() {
  if (history.length < 2) return;
  const tables = Object.keys(history[history.length - 1].tables);
  const xs = [];
  const total = [];
  const perTable = tables.map(() => []);
  const lag = [];
  const lagPer = tables.map(() => []);
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1];
    const b = history[i];
    const dt = (b.t - a.t) / 1000 || 1;
    xs.push(b.t / 1000);
    total.push(Math.max(0, (b.applied - a.applied) / dt));
    tables.forEach((t, j) => {
      perTable[j].push(Math.max(0, ((b.tables[t]?.applied ?? 0) - (a.tables[t]?.applied ?? 0)) / dt));
      lagPer[j].push(b.tables[t]?.lagSeconds ?? null);
    });
    lag.push(b.lagSeconds);
  }
  chart('chart-throughput', '', ['all tables', ...tables], [xs, total, ...perTable]);
  const parts = Object.keys(history[history.length - 1].partitions || {});
  const partLag = parts.map((p) => history.slice(1).map((h) => h.partitions?.[p] ?? null));
  chart('chart-lag', '', ['pipeline', ...tables, ...parts.map((p) => `${p} (records)`)], [xs, lag, ...lagPer, ...partLag]);
  // One series per table and stage; a stage a pipeline does not have (published, direct) and
  // samples of an earlier version (no stages) draw nothing.
  const last = history[history.length - 1].tables;
  const stages = tables.flatMap((t) =>
    ['captured', 'published', 'applied'].filter((st) => last[t]?.stages && last[t].stages[st] != null).map((st) => [t, st]),
  );
  chart(
    'chart-stages',
    '',
    stages.map(([t, st]) => `${t} ${st}`),
    [xs, ...stages.map(([t, st]) => history.slice(1).map((h) => h.tables[t]?.stages?.[st] ?? null))],
  );
  document.body.dataset.chartPoints = String(xs.length);
}

async function poll() {
  try {
    status = await api('/api/status');
    renderStatus();
    const h = await api(`/api/history?since=${historySince}`);
    for (const s of h) history.push(s);
    if (h.length) historySince = h[h.length - 1].t;
    while (history.length > 1800) history.shift();
    if (tab === 'overview') renderCharts();
  } catch (err) {
    $('state').textContent = `unreachable (${err.message})`;
    $('state').className = 'badge failed';
  }
}

// --- dead letters -------------------------------------------------------------------------------

async function loadDeadLetters() {
  const list = await api(`/api/dead-letters?status=${encodeURIComponent($('dl-status').value)}`).catch((e) => ({ error: e.message }));
  const body = $('dl-list').tBodies[0];
  if (!Array.isArray(list)) return body.replaceChildren(el('tr', {}, el('td', { colspan: 7 }, list.error)));
  if (list.length === 0) return body.replaceChildren(el('tr', {}, el('td', { colspan: 7 }, 'no dead letters')));
  body.replaceChildren(
    ...list.map((d) =>
      el(
        'tr',
        { class: `clickable${selectedDl === d.id ? ' selected' : ''}`, 'data-id': d.id, onclick: () => showDeadLetter(d.id) },
        el('td', {}, d.id),
        el('td', {}, d.table),
        el('td', {}, d.keyText),
        el('td', {}, d.version),
        el('td', {}, d.status),
        el('td', {}, d.parked),
        el('td', { class: 'error' }, `${d.errorCode || ''} ${d.errorMessage || ''}`),
      ),
    ),
  );
}

async function showDeadLetter(id, keepResult = false) {
  selectedDl = id;
  const d = await api(`/api/dead-letters/${id}`);
  $('dl-detail').hidden = false;
  $('dl-id').textContent = `#${d.id} (${d.status})`;
  $('dl-error').textContent = `${d.errorCode || ''}: ${d.errorMessage || ''}`;
  $('dl-record').textContent = JSON.stringify(d.event, null, 2);
  $('dl-target').textContent = d.targetRow ? JSON.stringify(d.targetRow, null, 2) : 'no row for this key on the target';
  $('dl-parked').textContent = d.parkedEvents.length
    ? `${d.parkedEvents.length} later change(s) of this key wait behind it: ${d.parkedEvents.map((p) => `v${p.version} ${p.op}`).join(', ')}`
    : 'no change waits behind it';
  if (!keepResult) $('dl-result').textContent = '';
  const open = d.status === 'open';
  $('dl-replay').disabled = !open;
  $('dl-skip').disabled = !open;
  loadDeadLetters();
}

async function drain(action) {
  if (selectedDl == null) return;
  if (action === 'skip' && !confirm(`Skip dead letter ${selectedDl}? Its change is dropped and the changes parked behind it are applied.`))
    return;
  const out = $('dl-result');
  out.textContent = '…';
  try {
    const r = await api(`/api/dead-letters/${selectedDl}/${action}`, { method: 'POST' });
    out.textContent = r.open
      ? `failed again: ${r.open.errorMessage} (dead letter ${r.open.id})`
      : `${action === 'replay' ? 'replayed' : 'skipped'}: ${r.applied} applied, ${r.skipped} skipped, ${r.released} released`;
    out.className = r.open ? 'error' : 'ok';
  } catch (err) {
    out.textContent = err.status === 401 ? `refused: ${err.message}` : err.message;
    out.className = 'error';
  }
  await showDeadLetter(selectedDl, true);
}

// --- reconcile ----------------------------------------------------------------------------------

async function loadReconcile() {
  const st = await api('/api/reconcile').catch((e) => ({ error: e.message }));
  $('rc-state').textContent = st.error
    ? st.error
    : st.running
      ? `running since ${st.startedAt}`
      : st.lastError
        ? `last run failed: ${st.lastError}`
        : st.lastReportId
          ? `last run: report ${st.lastReportId}`
          : 'idle';
  $('rc-start').disabled = !!st.running || !!st.error;
  $('rc-repair').disabled = !!st.running || !!st.error;
  const reports = await api('/api/reconcile/reports').catch(() => []);
  const body = $('rc-reports').tBodies[0];
  if (!reports.length) return body.replaceChildren(el('tr', {}, el('td', { colspan: 5 }, 'no reconcile report yet')));
  body.replaceChildren(
    ...reports.map((r) => {
      const drift = r.tables.reduce((n, t) => n + t.missing + t.extra + t.different, 0);
      return el(
        'tr',
        { class: 'clickable', 'data-id': r.id, onclick: () => showReport(r) },
        el('td', {}, r.id),
        el('td', {}, r.startedAt),
        el('td', {}, `${(r.durationMs / 1000).toFixed(1)} s`),
        el('td', {}, r.repairRequested ? 'yes' : 'no'),
        el('td', { class: drift ? 'bad' : 'ok' }, drift ? `${drift} rows` : 'none'),
      );
    }),
  );
}

function showReport(r) {
  $('rc-detail').hidden = false;
  $('rc-id').textContent = `#${r.id}, ${r.startedAt}`;
  $('rc-tables').tBodies[0].replaceChildren(
    ...r.tables.map((t) => {
      const keys = ['missing', 'extra', 'different', 'inFlight'].flatMap((k) => (t.keys[k] || []).map((key) => `${k}: ${key}`));
      return el(
        'tr',
        {},
        el('td', {}, t.table),
        el('td', {}, t.target),
        el('td', {}, fmtN(t.sourceRows)),
        el('td', {}, fmtN(t.targetRows)),
        el('td', {}, t.missing),
        el('td', {}, t.extra),
        el('td', {}, t.different),
        el('td', {}, t.inFlight),
        el('td', {}, t.repair.status + (t.repair.reason ? `: ${t.repair.reason}` : '')),
        el('td', {}, t.error ? `error: ${t.error}` : keys.join(', ') || '–'),
      );
    }),
  );
}

async function startReconcile(repair) {
  if (repair && !confirm('Start a reconcile that repairs confirmed drift on the target?')) return;
  try {
    await api('/api/reconcile', { method: 'POST', body: { repair } });
    $('rc-state').textContent = 'started';
  } catch (err) {
    $('rc-state').textContent = err.status === 401 ? `refused: ${err.message}` : err.message;
  }
}

// --- registry -----------------------------------------------------------------------------------

async function loadRegistry() {
  const subjects = await api('/api/subjects').catch((e) => ({ error: e.message }));
  const body = $('subjects').tBodies[0];
  if (!Array.isArray(subjects)) return body.replaceChildren(el('tr', {}, el('td', { colspan: 3 }, subjects.error)));
  if (!subjects.length) return body.replaceChildren(el('tr', {}, el('td', { colspan: 3 }, 'no subjects')));
  body.replaceChildren(
    ...subjects.map((s) =>
      el(
        'tr',
        { 'data-subject': s.subject },
        el('td', {}, s.subject),
        el('td', {}, ...s.versions.map((v) => el('button', { onclick: () => showSchema(s.subject, v) }, `v${v}`))),
        el('td', {}, s.versions.length > 1 ? compareControl(s.subject, s.versions) : '–'),
      ),
    ),
  );
}

/** Two version pickers (the one before the latest and the latest, at first) and a Diff button. */
function compareControl(subject, versions) {
  const pick = (selected) => {
    const select = el('select', {}, ...versions.map((v) => el('option', { value: v }, `v${v}`)));
    select.value = String(selected);
    return select;
  };
  const from = pick(versions[versions.length - 2]);
  const to = pick(versions[versions.length - 1]);
  from.className = 'diff-from';
  to.className = 'diff-to';
  return el(
    'span',
    {},
    from,
    ' → ',
    to,
    ' ',
    el('button', { class: 'diff-show', onclick: () => showDiff(subject, from.value, to.value) }, 'Diff'),
  );
}

async function showSchema(subject, v) {
  const s = await api(`/api/subjects/${encodeURIComponent(subject)}/versions/${v}`);
  const pre = $('schema');
  pre.hidden = false;
  $('diff').hidden = true;
  let schema = s.schema;
  try {
    schema = JSON.stringify(JSON.parse(s.schema), null, 2);
  } catch {
    /* not JSON: shown as is */
  }
  pre.textContent = `${subject} v${v} (id ${s.id})\n\n${schema}`;
}

async function showDiff(subject, from, to) {
  const box = $('diff');
  $('schema').hidden = true;
  box.hidden = false;
  let d;
  try {
    d = await api(`/api/subjects/${encodeURIComponent(subject)}/diff?from=${from}&to=${to}`);
  } catch (err) {
    $('diff-title').textContent = err.message;
    $('diff-fields').tBodies[0].replaceChildren();
    $('diff-lines').replaceChildren();
    return;
  }
  $('diff-title').textContent = `${subject}: v${from} → v${to}`;
  const words = { added: 'added', removed: 'removed', type: 'type changed', default: 'default changed' };
  $('diff-fields').tBodies[0].replaceChildren(
    ...(d.fields.length
      ? d.fields.map((f) =>
          el(
            'tr',
            { 'data-field': f.field, 'data-change': f.change },
            el('td', {}, f.field),
            el('td', { class: f.change === 'removed' ? 'bad' : f.change === 'added' ? 'ok' : 'warn' }, words[f.change]),
            el('td', {}, f.from ?? ''),
            el('td', {}, f.to ?? ''),
          ),
        )
      : [el('tr', {}, el('td', { colspan: 4 }, d.parsed ? 'no field changed' : 'not JSON: see the lines below'))]),
  );
  $('diff-lines').replaceChildren(
    ...d.lines.map((l) => el('span', { class: l.op === '+' ? 'add' : l.op === '-' ? 'del' : '' }, `${l.op} ${l.text}`)),
  );
}

// --- schema history -----------------------------------------------------------------------------

/** A portable column type as text: int64, decimal(10,2), string(40). */
function fmtType(t) {
  if (!t) return '?';
  if (t.kind === 'decimal') return `decimal(${t.precision},${t.scale})`;
  if (t.kind === 'string' && t.maxLength != null) return `string(${t.maxLength})`;
  return t.kind;
}

async function loadSchemaHistory() {
  const select = $('sh-table');
  const table = select.value;
  const r = await api(`/api/schema-history${table ? `?table=${encodeURIComponent(table)}` : ''}`).catch((e) => ({ error: e.message }));
  const body = $('schema-history').tBodies[0];
  if (r.error) return body.replaceChildren(el('tr', {}, el('td', { colspan: 6 }, r.error)));
  if (select.options.length !== r.tables.length + 1) {
    select.replaceChildren(el('option', { value: '' }, 'all tables'), ...r.tables.map((t) => el('option', { value: t }, t)));
    select.value = table;
  }
  if (!r.changes.length) return body.replaceChildren(el('tr', {}, el('td', { colspan: 6 }, 'no schema change recorded')));
  // Grouped per table, each table's changes oldest first (the order they were recorded).
  const byTable = new Map();
  for (const c of r.changes) byTable.set(c.table, [...(byTable.get(c.table) || []), c]);
  body.replaceChildren(
    ...[...byTable].flatMap(([name, changes]) => [
      el('tr', { class: 'group' }, el('th', { colspan: 6 }, `${name} (${changes.length} change${changes.length === 1 ? '' : 's'})`)),
      ...changes.map((c) =>
        el(
          'tr',
          { 'data-table': c.table, 'data-position': c.position },
          el('td', {}, c.recordedAt || '–'),
          el('td', {}, c.position),
          ...(c.ddl
            ? [el('td', { colspan: 4, class: 'ddl' }, `${c.ddl.tag}: ${c.ddl.statement.replace(/\s+/g, ' ').trim()}`)]
            : shapeCells(c)),
        ),
      ),
    ]),
  );
}

function shapeCells(c) {
  return [
    el('td', { class: 'ok' }, c.added.map((a) => `+ ${a.name} ${fmtType(a.type)}`).join(', ')),
    el('td', { class: 'bad' }, c.dropped.map((d) => `− ${d}`).join(', ')),
    el('td', { class: 'warn' }, c.retyped.map((t) => `${t.name} ${fmtType(t.from)} → ${fmtType(t.to)}`).join(', ')),
    el('td', { class: c.targetEvolved ? 'ok' : 'bad' }, c.targetEvolved ? 'evolved' : 'not evolved'),
  ];
}

// --- snapshots ----------------------------------------------------------------------------------

let snapshotsShown = '';

async function loadSnapshots() {
  const r = await api('/api/snapshots').catch((e) => ({ error: e.message }));
  const body = $('sn-list').tBodies[0];
  const shown = JSON.stringify(r);
  // Redrawn only when something changed, so a button is not replaced under the pointer.
  if (shown === snapshotsShown) return;
  snapshotsShown = shown;
  $('sn-start').disabled = !!r.error;
  if (r.error) return body.replaceChildren(el('tr', {}, el('td', { colspan: 7 }, r.error)));
  const select = $('sn-table');
  if (select.options.length !== r.tables.length) select.replaceChildren(...r.tables.map((t) => el('option', { value: t }, t)));
  if (!r.snapshots.length) return body.replaceChildren(el('tr', {}, el('td', { colspan: 7 }, 'no snapshot yet')));
  body.replaceChildren(...r.snapshots.map(snapshotRow));
}

function snapshotRow(s) {
  const pct = s.estimate ? Math.min(100, Math.round((s.rows / s.estimate) * 100)) : null;
  const bar = el(
    'span',
    { class: `progress${s.state === 'done' ? ' done' : pct == null && s.state !== 'cancelled' ? ' unknown' : ''}` },
    el('div', { style: `width:${s.state === 'done' ? 100 : (pct ?? 0)}%` }),
  );
  const live = s.state === 'waiting' || s.state === 'running';
  const button = (action, label, enabled) =>
    el('button', { 'data-action': action, onclick: () => controlSnapshot(s.table, action), ...(enabled ? {} : { disabled: '' }) }, label);
  return el(
    'tr',
    { 'data-table': s.table, 'data-kind': s.kind, 'data-state': s.state },
    el('td', {}, s.table),
    el('td', {}, s.kind),
    el('td', { class: s.state === 'cancelled' ? 'bad' : s.state === 'paused' ? 'warn' : s.state === 'done' ? 'ok' : '' }, s.state),
    el('td', {}, bar, s.state === 'done' ? '100%' : pct == null ? '' : `${pct}%`),
    el('td', {}, `${fmtN(s.rows)}${s.estimate != null && s.state !== 'done' ? ` / ~${fmtN(s.estimate)}` : ''}`),
    el('td', {}, s.where || ''),
    s.kind === 'incremental'
      ? el(
          'td',
          { class: 'actions' },
          button('pause', 'Pause', live),
          button('resume', 'Resume', s.state === 'paused'),
          button('cancel', 'Cancel', live || s.state === 'paused'),
        )
      : el('td', {}),
  );
}

function snapshotOutcome(text, ok) {
  $('sn-result').textContent = text;
  $('sn-result').className = ok ? 'ok' : 'error';
}

async function startSnapshot() {
  const table = $('sn-table').value;
  const where = $('sn-where').value.trim();
  try {
    await api('/api/snapshots', { method: 'POST', body: { table, ...(where ? { where } : {}) } });
    snapshotOutcome(`incremental snapshot of ${table} requested`, true);
  } catch (err) {
    snapshotOutcome(err.status === 401 ? `refused: ${err.message}` : err.message, false);
  }
  snapshotsShown = '';
  await loadSnapshots();
}

async function controlSnapshot(table, action) {
  if (action === 'cancel' && !confirm(`Cancel the incremental snapshot of ${table}? The rows copied so far stay.`)) return;
  try {
    await api(`/api/snapshots/${encodeURIComponent(table)}/${action}`, { method: 'POST' });
    snapshotOutcome(`${action} of ${table} requested: it takes effect after the chunk in flight`, true);
  } catch (err) {
    snapshotOutcome(err.status === 401 ? `refused: ${err.message}` : err.message, false);
  }
  snapshotsShown = '';
  await loadSnapshots();
}

// --- wiring -------------------------------------------------------------------------------------

$('token-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  token = $('token').value;
  sessionStorage.setItem('sluice.token', token);
  $('token').value = '';
  try {
    await api('/api/auth', { method: 'POST' });
    $('token-state').textContent = 'token accepted';
    $('token-state').className = 'ok';
  } catch (err) {
    $('token-state').textContent = `token refused: ${err.message}`;
    $('token-state').className = 'error';
  }
});
$('dl-status').addEventListener('change', loadDeadLetters);
$('dl-replay').addEventListener('click', () => drain('replay'));
$('dl-skip').addEventListener('click', () => drain('skip'));
$('rc-start').addEventListener('click', () => startReconcile(false));
$('rc-repair').addEventListener('click', () => startReconcile(true));
$('sh-table').addEventListener('change', loadSchemaHistory);
$('sn-form').addEventListener('submit', (e) => {
  e.preventDefault();
  startSnapshot();
});
$('msg-form').addEventListener('submit', (e) => {
  e.preventDefault();
  window.sluiceMessages.showMessages();
});
for (const a of document.querySelectorAll('nav a')) a.addEventListener('click', () => setTab(a.dataset.tab));
window.addEventListener('hashchange', () => setTab(location.hash.slice(1) || 'overview'));
if (token) $('token-state').textContent = 'token set';
setTab(location.hash.slice(1) || 'overview');
poll();
setInterval(() => {
  poll();
  if (tab === 'reconcile') loadReconcile();
  if (tab === 'snapshots') loadSnapshots();
}, POLL_MS);
