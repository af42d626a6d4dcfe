/* The Messages page: the latest records of a topic, a table or one key, decoded through the
 * registry, each beside the target's current row. Loaded before app.js, whose helpers ($, el, api)
 * it calls once the page is in use; app.js reaches it through window.sluiceMessages. Values are
 * written with textContent only. */
/* global window, $, el, api */
'use strict';

let topicsLoaded = false;
let messagesShown = [];

async function loadTopics() {
  if (topicsLoaded) return;
  const topics = await api('/api/topics').catch((e) => ({ error: e.message }));
  if (topics.error) {
    $('msg-summary').textContent = topics.error;
    return;
  }
  topicsLoaded = true;
  $('msg-topic').replaceChildren(...topics.map((t) => el('option', { value: t.topic }, t.topic)));
  const fillTables = () => {
    const t = topics.find((x) => x.topic === $('msg-topic').value);
    $('msg-table').replaceChildren(
      el('option', { value: '' }, 'all tables'),
      ...(t ? t.tables : []).map((n) => el('option', { value: n }, n)),
    );
  };
  $('msg-topic').addEventListener('change', fillTables);
  fillTables();
}

async function showMessages() {
  const q = new URLSearchParams({ limit: $('msg-limit').value || '20' });
  if ($('msg-topic').value) q.set('topic', $('msg-topic').value);
  if ($('msg-table').value) q.set('table', $('msg-table').value);
  if ($('msg-key').value.trim()) q.set('key', $('msg-key').value.trim());
  const summary = $('msg-summary');
  const body = $('msg-list').tBodies[0];
  summary.textContent = 'reading…';
  summary.className = '';
  $('msg-detail').hidden = true;
  let page;
  try {
    page = await api(`/api/messages?${q}`);
  } catch (err) {
    summary.textContent = err.message;
    summary.className = 'error';
    body.replaceChildren();
    return;
  }
  messagesShown = page.messages;
  const ends = page.partitions.map((p) => `${p.partition}: ${p.low}–${p.high}`).join(', ');
  summary.textContent =
    `${page.messages.length} record(s) of ${page.topic}, newest first; ${page.scanned} read (partition offsets ${ends})` +
    (page.complete ? '' : '; not every record was read (the search stops after 20,000 records or 30 s, or a read timed out)');
  if (!page.messages.length) return body.replaceChildren(el('tr', {}, el('td', { colspan: 7 }, 'no record found')));
  body.replaceChildren(
    ...page.messages.map((m, i) =>
      el(
        'tr',
        { class: 'clickable', 'data-offset': `${m.partition}/${m.offset}`, onclick: () => showMessage(i) },
        el('td', {}, `${m.partition} / ${m.offset}`),
        el('td', {}, m.timestamp),
        el('td', {}, m.table || '–'),
        el('td', {}, m.event ? m.event.op : '–'),
        el('td', {}, m.event ? JSON.stringify(m.event.key) : m.keyText),
        el('td', {}, m.event ? m.event.version : '–'),
        el('td', {}, m.schemaId == null ? '–' : m.schemaId),
      ),
    ),
  );
  showMessage(0);
}

function showMessage(i) {
  const m = messagesShown[i];
  if (!m) return;
  for (const r of $('msg-list').tBodies[0].rows) r.classList.toggle('selected', r.dataset.offset === `${m.partition}/${m.offset}`);
  $('msg-detail').hidden = false;
  $('msg-title').textContent = `${m.topic} partition ${m.partition} offset ${m.offset}`;
  $('msg-error').textContent = m.error || '';
  $('msg-record').textContent = m.event ? JSON.stringify(m.event, null, 2) : `key ${m.keyText}: not decoded`;
  $('msg-target').textContent =
    m.targetRow === undefined ? '–' : m.targetRow ? JSON.stringify(m.targetRow, null, 2) : 'no row for this key on the target';
}

window.sluiceMessages = { loadTopics, showMessages };
