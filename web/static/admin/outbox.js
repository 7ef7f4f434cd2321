// @ts-check
// The admin console's E-mail tab: the e-mail outbox, newest first
// (GET /api/admin/outbox), with failed and waiting messages marked, a
// "Send again" button for a failed one (POST /api/admin/outbox/{id}/retry),
// and a line saying whether SMTP is configured: without it every message
// waits, shown as not sent. While messages wait and the tab is on screen,
// the list is read again every few seconds, so a message going out shows.

import { el, setText } from '../lib/dom.js';
import { errorText } from '../lib/util.js';
import { api } from './api.js';

/**
 * @typedef {object} OutboxMessage
 * @property {number} id
 * @property {string[]} to
 * @property {string} reply_to
 * @property {string} subject
 * @property {string} cause
 * @property {number | null} cause_id
 * @property {string} created_at
 * @property {'pending' | 'sent' | 'failed'} state
 * @property {number} attempts
 * @property {string} next_at
 * @property {string} last_error
 * @property {string | null} sent_at
 *
 * @typedef {{configured: boolean, host?: string, port?: number, tls?: string, from?: string}} SMTPStatus
 * @typedef {{messages: OutboxMessage[], smtp: SMTPStatus, next_before?: number}} OutboxPage
 */

/** How often the list is read again while messages wait, in ms. */
const REFRESH_MS = 3000;

/** @type {Record<string, string>} */
const CAUSE = { offline: 'Offline message' };

/** @type {HTMLElement} */
let root;
/** @type {import('./types.js').Ctx} */
let ctx;
/** @type {HTMLElement} */
let smtpLine;
/** @type {HTMLSelectElement} */
let stateFilter;
/** @type {HTMLTableSectionElement} */
let rows;
/** @type {HTMLElement} */
let summary;
/** @type {HTMLButtonElement} */
let more;
/** @type {SMTPStatus} */
let smtp = { configured: false };
/** the id the next page starts below, or 0 */
let nextBefore = 0;
/** @type {ReturnType<typeof setTimeout> | null} */
let refresh = null;
/** bumped by each load from the start: an older answer is dropped */
let generation = 0;

/**
 * @param {import('./types.js').Ctx} c
 * @param {HTMLElement} r
 */
export async function mount(c, r) {
  ctx = c;
  root = r;
  smtpLine = el('p', { class: 'outbox-smtp', id: 'outbox-smtp', role: 'status' });
  stateFilter = el(
    'select',
    { id: 'outbox-state', name: 'state' },
    el('option', { value: '' }, 'Any'),
    el('option', { value: 'pending' }, 'Waiting'),
    el('option', { value: 'failed' }, 'Failed'),
    el('option', { value: 'sent' }, 'Sent'),
  );
  stateFilter.addEventListener('change', () => void load());
  const reload = el('button', { class: 'button button-quiet', type: 'button' }, 'Refresh');
  reload.addEventListener('click', () => void load());
  summary = el('p', { class: 'outbox-summary', role: 'status', 'aria-live': 'polite' });
  rows = el('tbody');
  const table = el(
    'table',
    { class: 'outbox-table', 'aria-label': 'E-mail outbox, newest first' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...['To', 'Subject', 'Cause', 'Created', 'State', 'Attempts', 'Last error', 'Sent at', ''].map((h) =>
          el('th', { scope: 'col' }, h),
        ),
      ),
    ),
    rows,
  );
  more = el('button', { class: 'button button-quiet', type: 'button', hidden: true }, 'More');
  more.addEventListener('click', () => void load(nextBefore));
  root.replaceChildren(
    el('h2', { class: 'outbox-title' }, 'E-mail outbox'),
    smtpLine,
    el(
      'div',
      { class: 'outbox-tools' },
      el('label', { for: 'outbox-state' }, 'State'),
      stateFilter,
      reload,
    ),
    summary,
    el('div', { class: 'outbox-scroll' }, table),
    more,
  );
  await load();
}

/** Reads the list again each time the tab is shown. */
export function shown() {
  void load();
}

/**
 * Loads the newest page (before 0) or the page below before, which is added.
 * @param {number} before
 */
async function load(before = 0) {
  const gen = before ? generation : ++generation;
  if (refresh) clearTimeout(refresh);
  refresh = null;
  const q = new URLSearchParams();
  if (stateFilter.value) q.set('state', stateFilter.value);
  if (before) q.set('before', String(before));
  /** @type {OutboxPage} */
  let page;
  try {
    const query = q.toString();
    page = await api('GET', `/api/admin/outbox${query ? `?${query}` : ''}`);
  } catch (err) {
    ctx.notices(`Could not read the outbox: ${errorText(err)}`);
    return;
  }
  if (gen !== generation) return;
  smtp = page.smtp;
  setText(
    smtpLine,
    smtp.configured
      ? `Mail is sent through ${smtp.host}:${smtp.port} (${smtp.tls === 'none' ? 'no TLS' : smtp.tls === 'tls' ? 'TLS' : 'STARTTLS'}) from ${smtp.from}.`
      : 'SMTP is not configured: mail waits here, not sent, until the server is started with --smtp-host.',
  );
  smtpLine.classList.toggle('outbox-smtp-off', !smtp.configured);
  const built = page.messages.map(row);
  if (before) rows.append(...built);
  else rows.replaceChildren(...built);
  nextBefore = page.next_before ?? 0;
  more.hidden = !nextBefore;
  const n = rows.children.length;
  setText(summary, n === 0 ? 'No messages.' : `${n} message${n === 1 ? '' : 's'}${nextBefore ? ' (more below)' : ''}.`);
  if (smtp.configured && page.messages.some((m) => m.state === 'pending')) {
    refresh = setTimeout(() => {
      if (!root.hidden) void load();
    }, REFRESH_MS);
  }
}

/**
 * One message's row.
 * @param {OutboxMessage} m
 */
function row(m) {
  const cause = CAUSE[m.cause] ?? m.cause;
  /** @type {HTMLElement | string} */
  let action = '';
  if (m.state === 'failed') {
    const again = el('button', { class: 'button button-quiet', type: 'button' }, 'Send again');
    again.addEventListener('click', () => void retry(m, again));
    action = again;
  }
  return el(
    'tr',
    { class: `outbox-row outbox-${m.state}`, 'data-id': m.id },
    el('td', {}, m.to.join(', ')),
    el('td', {}, m.subject),
    el('td', {}, m.cause_id ? `${cause} (${m.cause_id})` : cause || '—'),
    el('td', {}, when(m.created_at)),
    el('td', { class: 'outbox-state' }, stateText(m)),
    el('td', { class: 'outbox-num' }, m.attempts),
    el('td', { class: 'outbox-error' }, m.last_error || '—'),
    el('td', {}, m.sent_at ? when(m.sent_at) : '—'),
    el('td', {}, action),
  );
}

/** @param {OutboxMessage} m */
function stateText(m) {
  switch (m.state) {
    case 'sent':
      return 'Sent';
    case 'failed':
      return 'Failed: gave up';
    default:
      if (!smtp.configured) return 'Not sent: SMTP is not configured';
      return m.attempts > 0 ? `Not sent yet: next try ${when(m.next_at)}` : 'Waiting to be sent';
  }
}

/**
 * "Send again": the message waits to be sent once more.
 * @param {OutboxMessage} m
 * @param {HTMLButtonElement} button
 */
async function retry(m, button) {
  button.disabled = true;
  try {
    await api('POST', `/api/admin/outbox/${m.id}/retry`);
  } catch (err) {
    button.disabled = false;
    ctx.notices(`Could not send it again: ${errorText(err)}`);
    return;
  }
  await load();
}

/** @param {string} iso */
function when(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
