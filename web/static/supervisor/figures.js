// @ts-check
// The queue figures: per queue and in total, customers waiting and the
// longest wait, and today's answered, abandoned, service level, average
// wait and handling time; then the waiting customers.

import { el } from '../lib/dom.js';
import { duration } from '../lib/util.js';
import { ticking } from './floor.js';

/** @typedef {import('./floor.js').Figures} Figures */

/** @param {number | null} ratio */
function percent(ratio) {
  return ratio === null ? '—' : `${Math.round(ratio * 100)} %`;
}

/** @param {number | null} seconds */
function time(seconds) {
  return seconds === null ? '—' : duration(seconds * 1000);
}

/**
 * The cells of one row of figures.
 * @param {Figures} f
 * @param {string} name
 * @param {string} [threshold] the service level's threshold, shown by the level
 */
function cells(f, name, threshold) {
  return [
    el('td', { 'data-col': 'waiting' }, String(f.waiting)),
    f.longest_wait_since
      ? el('td', { 'data-col': 'longest' }, ticking(el('span', { class: 'sup-age' }), f.longest_wait_since))
      : el('td', { 'data-col': 'longest' }, '—'),
    el('td', { 'data-col': 'answered' }, String(f.answered)),
    el('td', { 'data-col': 'abandoned' }, String(f.abandoned)),
    el('td', { 'data-col': 'service-level', title: threshold ? `answered within ${threshold}` : null },
      percent(f.service_level)),
    el('td', { 'data-col': 'average-wait' }, time(f.average_wait_seconds)),
    el('td', { 'data-col': 'average-handling' }, time(f.average_handling_seconds)),
  ].map((td) => {
    td.dataset.queue = name;
    return td;
  });
}

/**
 * Renders the figures table and the waiting customers into root.
 * @param {HTMLElement} root
 * @param {import('./floor.js').FloorView} view
 */
export function renderFigures(root, view) {
  const snap = view.snap;
  if (!snap) return;
  const head = el('tr', {},
    el('th', { scope: 'col' }, 'Queue'),
    el('th', { scope: 'col' }, 'Waiting'),
    el('th', { scope: 'col' }, 'Longest wait'),
    el('th', { scope: 'col' }, 'Answered'),
    el('th', { scope: 'col' }, 'Abandoned'),
    el('th', { scope: 'col' }, 'Service level'),
    el('th', { scope: 'col' }, 'Average wait'),
    el('th', { scope: 'col' }, 'Average handling'));
  const body = el('tbody', {});
  for (const q of snap.queues) {
    body.append(el('tr', { 'data-queue-id': q.id },
      el('th', { scope: 'row' }, q.name, el('span', { class: 'sup-muted' }, ` · ${q.service_level_seconds} s`)),
      ...cells(q, q.name, `${q.service_level_seconds} s`)));
  }
  const total = el('tfoot', {}, el('tr', { class: 'sup-total' }, el('th', { scope: 'row' }, 'Total'),
    ...cells(snap.total, 'Total')));
  const table = el('table', { class: 'sup-table', id: 'queue-figures' },
    el('caption', {}, `Queues today (${snap.day}, ${snap.time_zone})`), el('thead', {}, head), body, total);

  const waiting = el('tbody', {});
  for (const w of snap.waiting) {
    waiting.append(el('tr', { 'data-conversation-id': w.conversation_id },
      el('td', {}, w.name),
      el('td', {}, w.email || '—'),
      el('td', {}, view.queues.get(w.queue_id)?.name ?? ''),
      el('td', {}, ticking(el('span', { class: 'sup-age' }), w.queued_at))));
  }
  const waitingTable = snap.waiting.length
    ? el('table', { class: 'sup-table', id: 'waiting-customers' },
      el('caption', {}, `Waiting customers (${snap.total.waiting})`),
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, 'Name'), el('th', { scope: 'col' }, 'E-mail'),
        el('th', { scope: 'col' }, 'Queue'), el('th', { scope: 'col' }, 'Waiting'))),
      waiting)
    : el('p', { class: 'sup-muted', id: 'waiting-customers' }, 'Nobody is waiting.');
  root.replaceChildren(table, waitingTable);
}
