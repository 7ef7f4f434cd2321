// @ts-check
// The history tab: find any conversation (history.search: words, contact,
// agent, queue, dates, status, important) and read its whole transcript
// (history.get), private messages and comments marked; mark it important
// (chat.mark). docs/protocol.md, "History (staff)".

import { fileFetcher, renderFiles } from '../lib/files.js';
import { el, setText } from '../lib/dom.js';
import { day, clock, duration, errorText } from '../lib/util.js';
import { renderMarkup } from '../lib/markup.js';
import { feedbackText } from '../desk/render.js';
import { holdText } from '../lib/hold-time.js';

/**
 * @typedef {import('../lib/types.js').Conversation & {agents?: {id: number, name: string}[]}} Conversation
 * @typedef {import('../lib/types.js').ChatEvent & {offset_ms: number, target?: {kind: string, name: string}}} Entry
 * @typedef {{text: string, hit?: boolean}} Part
 * @typedef {{seq: number, kind: string, private: boolean, snippet: Part[]}} Match
 * @typedef {{conversation: Conversation, important: boolean, match: Match | null}} Result
 * @typedef {{results: Result[], cursor: string}} Page
 * @typedef {{conversation: Conversation, important: boolean, events: Entry[], feedback: {rating: number, comment: string, time: string} | null}} Transcript
 * @typedef {{id: number, name: string}} Choice
 */

/** How an event without text reads in a transcript. */
const KIND_TEXT = /** @type {Record<string, string>} */ ({
  queued: 'started the chat',
  offered: 'was offered the chat',
  rejected: 'rejected the chat',
  missed: 'missed the offer',
  accepted: 'accepted the chat',
  closed: 'closed the chat',
  wrapped_up: 'wrapped up the chat',
  invited: 'invited a colleague',
  invite_ended: 'did not join',
  joined: 'joined the chat',
  left: 'left the chat',
  transfer_requested: 'asked a colleague to take over',
  transfer_ended: 'did not take the chat over',
  transferred: 'took the chat over',
  room_created: 'started a video call',
  room_joined: 'joined the video call',
  room_left: 'left the video call',
  screen_started: 'started sharing the screen',
  screen_stopped: 'stopped sharing the screen',
  room_ended: 'ended the video call',
});

const STATE_LABEL = /** @type {Record<string, string>} */ ({
  queued: 'Waiting',
  offered: 'Offered',
  active: 'Open',
  closed: 'Closed',
  offline: 'Offline message',
});

/**
 * Mounts the history search in el.
 * @param {import('./types.js').Ctx} ctx
 * @param {HTMLElement} root
 */
export function mountHistory(ctx, root) {
  /** @param {string} name @param {string} label @param {HTMLElement} control */
  const field = (name, label, control) => {
    control.id = `hist-${name}`;
    control.setAttribute('name', name);
    return el('div', { class: 'hist-field' }, el('label', { for: control.id }, label), control);
  };
  const text = el('input', { type: 'search', placeholder: 'Words in the chat', autocomplete: 'off' });
  const contact = el('input', { type: 'search', placeholder: 'Name or e-mail', autocomplete: 'off' });
  const agent = el('select', {}, el('option', { value: '' }, 'Any agent'));
  const queue = el('select', {}, el('option', { value: '' }, 'Any queue'));
  const from = el('input', { type: 'date' });
  const to = el('input', { type: 'date' });
  const status = el(
    'select',
    {},
    el('option', { value: '' }, 'Any'),
    el('option', { value: 'open' }, 'Open'),
    el('option', { value: 'closed' }, 'Closed'),
    el('option', { value: 'offline' }, 'Offline message'),
  );
  const closeStatus = el('input', { type: 'text', placeholder: 'e.g. Resolved', autocomplete: 'off' });
  const important = el(
    'select',
    {},
    el('option', { value: '' }, 'Any'),
    el('option', { value: 'true' }, 'Important only'),
    el('option', { value: 'false' }, 'Not important'),
  );
  const submit = el('button', { type: 'submit', class: 'button' }, 'Search');
  const form = el(
    'form',
    { class: 'hist-form', role: 'search', 'aria-label': 'Search the history' },
    field('text', 'Text', text),
    field('contact', 'Contact', contact),
    field('agent', 'Agent', agent),
    field('queue', 'Queue', queue),
    field('from', 'From', from),
    field('to', 'To', to),
    field('status', 'Status', status),
    field('close_status', 'Close status', closeStatus),
    field('important', 'Important', important),
    el('div', { class: 'hist-actions' }, submit),
  );
  const summary = el('p', { class: 'hist-summary', role: 'status', 'aria-live': 'polite' });
  const list = el('ol', { class: 'hist-results', 'aria-label': 'Conversations found' });
  const more = el('button', { type: 'button', class: 'button button-quiet hist-more', hidden: true }, 'More');
  const transcript = el('section', { class: 'hist-transcript', 'aria-label': 'Transcript', 'aria-live': 'polite' });
  root.replaceChildren(
    el('h2', { class: 'visually-hidden' }, 'History'),
    form,
    el('div', { class: 'hist-body' }, el('div', { class: 'hist-list' }, summary, list, more), transcript),
  );

  /** @type {object | null} the last query asked, for "More" */
  let query = null;
  let cursor = '';
  let found = 0;

  void loadFilters();

  async function loadFilters() {
    try {
      /** @type {{queues: Choice[], agents: Choice[]}} */
      const f = await ctx.conn.request('history.filters', {});
      queue.append(...f.queues.map((q) => el('option', { value: q.id }, q.name)));
      agent.append(...f.agents.map((a) => el('option', { value: a.id }, a.name)));
    } catch (err) {
      ctx.notices(`Could not read the history's filters: ${errorText(err)}`);
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    /** @type {Record<string, unknown>} */
    const q = {};
    if (text.value.trim()) q.text = text.value.trim();
    if (contact.value.trim()) q.contact = contact.value.trim();
    if (agent.value) q.agent_id = Number(agent.value);
    if (queue.value) q.queue_id = Number(queue.value);
    // The dates are this browser's days: from its first moment to the
    // next day's first.
    if (from.value) q.from = localDay(from.value, 0);
    if (to.value) q.to = localDay(to.value, 1);
    if (status.value) q.status = status.value;
    if (closeStatus.value.trim()) q.close_status = closeStatus.value.trim();
    if (important.value) q.important = important.value === 'true';
    query = q;
    cursor = '';
    found = 0;
    list.replaceChildren();
    void search();
  });

  more.addEventListener('click', () => void search());

  async function search() {
    if (!query) return;
    submit.disabled = more.disabled = true;
    setText(summary, 'Searching…');
    try {
      /** @type {Page} */
      const page = await ctx.conn.request('history.search', cursor ? { ...query, cursor } : query);
      list.append(...page.results.map(resultItem));
      found += page.results.length;
      cursor = page.cursor;
      more.hidden = !cursor;
      setText(summary, found === 0 ? 'No conversation found.' : `${found}${cursor ? '+' : ''} conversations found.`);
    } catch (err) {
      setText(summary, errorText(err));
    } finally {
      submit.disabled = more.disabled = false;
    }
  }

  /** @param {Result} r */
  function resultItem(r) {
    const c = r.conversation;
    const open = el(
      'button',
      { type: 'button', class: 'hist-result', 'data-id': c.id },
      el(
        'span',
        { class: 'hist-result-head' },
        el('strong', { class: 'hist-customer' }, c.customer.name),
        c.customer.email ? el('span', { class: 'hist-email' }, c.customer.email) : null,
        r.important ? el('span', { class: 'hist-important', title: 'Important' }, '★ Important') : null,
      ),
      el(
        'span',
        { class: 'hist-result-meta' },
        `${c.queue.name} · ${agentNames(c) || 'no agent'} · ${day(c.queued_at)} ${clock(c.queued_at)} · ${stateText(c)}`,
      ),
      r.match ? snippet(r.match) : null,
    );
    open.addEventListener('click', () => void show(c.id));
    return el('li', {}, open);
  }

  /** @param {Match} m */
  function snippet(m) {
    return el(
      'span',
      { class: 'hist-snippet' },
      m.private ? el('span', { class: 'hist-tag' }, m.kind === 'comment' ? 'Comment' : 'Private') : null,
      ...m.snippet.map((p) => (p.hit ? el('mark', {}, p.text) : p.text)),
    );
  }

  /** @param {number} id */
  async function show(id) {
    for (const b of list.querySelectorAll('.hist-result')) {
      b.setAttribute('aria-current', String(b.getAttribute('data-id') === String(id)));
    }
    transcript.replaceChildren(el('p', {}, 'Loading…'));
    try {
      /** @type {Transcript} */
      const t = await ctx.conn.request('history.get', { conversation_id: id });
      renderTranscript(t);
    } catch (err) {
      transcript.replaceChildren(el('p', { role: 'alert' }, errorText(err)));
    }
  }

  /** @param {Transcript} t */
  function renderTranscript(t) {
    const c = t.conversation;
    let important = t.important;
    const mark = el('button', { type: 'button', class: 'button button-quiet hist-mark' });
    const paintMark = () => {
      mark.setAttribute('aria-pressed', String(important));
      setText(mark, important ? '★ Important' : '☆ Mark important');
    };
    paintMark();
    mark.addEventListener('click', async () => {
      mark.disabled = true;
      try {
        await ctx.conn.request('chat.mark', { conversation_id: c.id, important: !important });
        important = !important;
        paintMark();
        const row = list.querySelector(`.hist-result[data-id="${c.id}"] .hist-result-head`);
        row?.querySelector('.hist-important')?.remove();
        if (row && important) row.append(el('span', { class: 'hist-important', title: 'Important' }, '★ Important'));
      } catch (err) {
        ctx.notices(`Could not mark the chat: ${errorText(err)}`);
      } finally {
        mark.disabled = false;
      }
    });
    const times = [`Started ${day(c.queued_at)} ${clock(c.queued_at)}`];
    if (c.accepted_at) times.push(`accepted after ${duration(Date.parse(c.accepted_at) - Date.parse(c.queued_at))}`);
    if (c.closed_at) times.push(`closed after ${duration(Date.parse(c.closed_at) - Date.parse(c.queued_at))}`);
    transcript.replaceChildren(
      el(
        'header',
        { class: 'hist-t-head' },
        el('h3', {}, `${c.customer.name}${c.customer.email ? ` <${c.customer.email}>` : ''}`),
        el('p', { class: 'hist-t-meta' }, `${c.queue.name} · ${agentNames(c) || 'no agent'} · ${stateText(c)}`),
        el('p', { class: 'hist-t-meta' }, times.join(', ')),
        c.accepted_at ? el('p', { class: 'hist-t-meta hist-hold' }, holdText(c)) : null,
        mark,
      ),
      el('ol', { class: 'hist-events', 'aria-label': 'Events' }, ...t.events.map(transcriptItem)),
      // The customer's rating of the chat (chat.feedback).
      el('p', { class: 'hist-feedback' }, t.feedback ? feedbackText(t.feedback.rating, t.feedback.comment) : 'No feedback.'),
    );
  }
}

/**
 * One event of a transcript (history.get's, ticket.get's), as a list item:
 * time, offset from the start, author, private or comment marked, text.
 * @param {Entry} e
 */
export function transcriptItem(e) {
  const comment = e.kind === 'comment';
  const cls = ['hist-event', `hist-kind-${e.kind}`];
  if (e.private) cls.push('hist-private');
  let body = e.kind === 'feedback' ? feedbackText(e.rating ?? 0, e.text ?? '') : e.text || KIND_TEXT[e.kind] || e.kind.replaceAll('_', ' ');
  if (e.status) body += ` (${e.status})`;
  if (e.target) body += ` → ${e.target.name}`;
  return el(
    'li',
    { class: cls.join(' '), 'data-seq': e.seq },
    el('time', { class: 'hist-time', datetime: e.time }, clock(e.time)),
    el('span', { class: 'hist-offset', title: 'after the start' }, `+${duration(e.offset_ms)}`),
    el('span', { class: 'hist-author' }, e.author.name || e.author.kind),
    e.private ? el('span', { class: 'hist-tag' }, comment ? 'Comment' : 'Private') : null,
    el('span', { class: e.text ? 'hist-text' : 'hist-note' }, e.kind === 'message' ? renderMarkup(body) : body),
    renderFiles(e.files, historyFiles),
  );
}

/** A file in a transcript is fetched with the session cookie. */
const historyFiles = fileFetcher(() => null);

/** @param {Conversation} c */
function agentNames(c) {
  const names = (c.agents ?? []).map((a) => a.name);
  if (names.length === 0 && c.agent) names.push(c.agent.name);
  return names.join(', ');
}

/** @param {Conversation} c */
function stateText(c) {
  const s = STATE_LABEL[c.state] ?? c.state;
  return c.close_status ? `${s}: ${c.close_status}` : s;
}

/**
 * The first moment of a local day (a date input's value), plus days, as
 * an RFC 3339 time.
 * @param {string} value 2026-12-01
 * @param {number} plus
 */
function localDay(value, plus) {
  const [y, m, d] = value.split('-').map(Number);
  return new Date(y, m - 1, d + plus).toISOString();
}
