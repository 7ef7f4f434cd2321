// @ts-check
// How the desk shows a conversation's events: messages (the customer's on
// the left, agents' on the right, private ones marked), system lines, and
// earlier conversations under their dividers. Everything as text (dom.js).

import { fileFetcher, renderFiles } from '../lib/files.js';
import { el, setText } from '../lib/dom.js';
import { day, hhmm } from '../lib/util.js';
import { renderMarkup } from '../lib/markup.js';
import { renderComment } from './comments.js';
import { renderOptions } from './options.js';

/**
 * @typedef {import('../lib/types.js').Conversation} Conversation
 * @typedef {import('../lib/types.js').ChatEvent} ChatEvent
 * @typedef {import('../lib/types.js').WithEvents} WithEvents
 */

/**
 * An event as an element: a message or a system line; null for kinds this
 * desk does not know.
 * @param {ChatEvent} ev
 * @param {Conversation} conv
 * @returns {HTMLElement | null}
 */
export function renderEvent(ev, conv) {
  if (ev.kind === 'message') return renderMessage(ev);
  if (ev.kind === 'comment') return renderComment(ev);
  const who = ev.author?.name || (ev.author?.kind === 'customer' ? conv.customer.name : 'An agent');
  /** @type {[string, boolean] | null} text, and whether it is for agents only */
  let line = null;
  switch (ev.kind) {
    case 'queued':
      line = [`${who} started the chat`, false];
      break;
    case 'offered':
      line = [`Offered to ${who}`, true];
      break;
    case 'rejected':
      line = [`${who} rejected the offer`, true];
      break;
    case 'missed':
      line = [`${who} missed the offer`, true];
      break;
    case 'accepted':
      line = [`${who} joined`, false];
      break;
    case 'room_created':
      line = [ev.author?.kind === 'system' ? 'A video room was opened' : `${who} opened a video room`, false];
      break;
    case 'room_joined':
      line = [`${who} joined the video room`, false];
      break;
    case 'room_left':
      line = [`${who} left the video room`, false];
      break;
    case 'screen_started':
      line = [`${who} started sharing the screen`, false];
      break;
    case 'screen_stopped':
      line = [`${who} stopped sharing the screen`, false];
      break;
    case 'room_ended':
      line = ['The video room ended', false];
      break;
    case 'closed':
      line =
        ev.author?.kind === 'customer'
          ? [`${who} ended the chat`, false]
          : ev.author?.kind === 'system'
            ? [systemCloseText(ev), false]
            : [ev.status ? `${who} closed the chat — ${ev.status}` : `${who} closed the chat`, false];
      break;
    case 'wrapped_up':
      line = [ev.status ? `${who} wrapped up the chat — ${ev.status}` : `${who} wrapped up the chat`, true];
      break;
    case 'invited':
      line = [`${who} invited ${targetOf(ev)?.name ?? 'a colleague'}`, true];
      break;
    case 'invite_ended':
      line = [
        ev.status === 'declined'
          ? `${who} declined the invitation`
          : ev.status === 'timeout'
            ? `${who} did not answer the invitation`
            : `The invitation of ${who} was cancelled`,
        true,
      ];
      break;
    case 'joined':
      line = [`${who} joined the chat`, false];
      break;
    case 'left':
      line = [`${who} left the chat`, false];
      break;
    case 'transfer_requested': {
      const t = targetOf(ev);
      line = [t?.kind === 'queue' ? `${who} transferred the chat to the queue ${t.name}` : `${who} asked ${t?.name ?? 'a colleague'} to take over the chat`, true];
      break;
    }
    case 'transfer_ended':
      line = [
        ev.status === 'declined'
          ? `${who} declined the transfer`
          : ev.status === 'timeout'
            ? `${who} did not answer the transfer`
            : `The transfer to ${who} was cancelled`,
        true,
      ];
      break;
    case 'feedback':
      line = [feedbackText(ev.rating ?? 0, ev.text ?? ''), true];
      break;
    case 'transferred': {
      const t = targetOf(ev);
      line = [t?.kind === 'queue' ? `The chat was transferred to ${t.name}` : `The chat was transferred to ${who}`, false];
      break;
    }
    case 'ticket_linked': {
      // Without a ticket: the chat was unlinked (docs/protocol.md, ticket.link).
      const t = /** @type {ChatEvent & {ticket?: {id: number, title: string}}} */ (ev).ticket;
      line = [t ? `${who} linked the chat to ticket #${t.id} “${t.title}”` : `${who} unlinked the chat from its ticket`, true];
      break;
    }
    default:
      return null;
  }
  const [text, agentsOnly] = line;
  const staffOnly = agentsOnly || ev.private;
  return el(
    'p',
    { class: `system system-${ev.kind}${staffOnly ? ' system-muted' : ''}`, 'data-seq': ev.seq },
    staffOnly ? eyeMark('Only staff see this') : null,
    el('span', { class: 'system-text' }, text),
    ev.time ? el('time', { class: 'msg-time', datetime: ev.time }, hhmm(ev.time)) : null,
  );
}

/**
 * The customer's feedback as staff read it: Feedback: ★★★★☆ 4/5 — “note”.
 * @param {number} rating 1–5
 * @param {string} comment the note, or ''
 */
export function feedbackText(rating, comment) {
  const n = Math.max(0, Math.min(5, Math.round(rating)));
  const stars = '★'.repeat(n) + '☆'.repeat(5 - n);
  return `Feedback: ${stars} ${n}/5${comment ? ` — “${comment}”` : ''}`;
}

/**
 * The eye: the mark of what only staff see (a private note, a private
 * line), with its meaning for screen readers and as a tooltip.
 * @param {string} label
 */
export function eyeMark(label) {
  return el('span', { class: 'eye-mark', title: label, role: 'img', 'aria-label': label }, el('span', { class: 'eye', 'aria-hidden': 'true' }));
}

/**
 * Whom an invited, transfer_requested or transferred event names.
 * @param {ChatEvent} ev
 * @returns {{kind: string, name: string} | undefined}
 */
function targetOf(ev) {
  return /** @type {ChatEvent & {target?: {kind: string, name: string}}} */ (ev).target;
}

/** Files are fetched with the session cookie. */
const cookieFiles = fileFetcher(() => null);

/**
 * A message: the customer's on the left, agents' on the right with their
 * name; a private one in the private colour with the eye and "Private".
 * @param {ChatEvent} ev
 * @returns {HTMLElement}
 */
export function renderMessage(ev) {
  const side = ev.author?.kind === 'customer' ? 'msg-customer' : 'msg-agent';
  const node = el(
    'div',
    { class: `msg ${side}${ev.private ? ' msg-private' : ''}`, 'data-seq': ev.seq || null, 'data-author': ev.author?.name ?? '' },
    el(
      'p',
      { class: 'msg-meta' },
      el('span', { class: 'msg-author' }, ev.author?.name ?? ''),
      ev.private ? el('span', { class: 'msg-private-label', title: 'Private note: only staff see this' }, el('span', { class: 'eye', 'aria-hidden': 'true' }), 'Private') : null,
      el('time', { class: 'msg-time', datetime: ev.time || null }, ev.time ? hhmm(ev.time) : ''),
    ),
    el('div', { class: 'msg-text' }, renderMarkup(ev.text ?? '')),
    renderOptions(ev),
  );
  if (ev.client_id) node.dataset.clientId = ev.client_id;
  node.append(renderFiles(ev.files, cookieFiles) ?? '');
  return node;
}

/**
 * A message right after another of the same author, side and visibility
 * leaves the name out (its time stays).
 * @param {Element} node
 */
export function group(node) {
  if (!node.classList.contains('msg')) return;
  const prev = node.previousElementSibling;
  const same =
    prev !== null &&
    prev.classList.contains('msg') &&
    prev.getAttribute('data-author') === node.getAttribute('data-author') &&
    prev.classList.contains('msg-customer') === node.classList.contains('msg-customer') &&
    prev.classList.contains('msg-private') === node.classList.contains('msg-private');
  node.classList.toggle('msg-cont', same);
}

/**
 * One earlier conversation with its divider.
 * @param {WithEvents} entry
 */
export function renderEarlier(entry) {
  const c = entry.conversation;
  const status =
    c.state !== 'closed'
      ? 'Open'
      : c.close_status || (c.closed_by === 'customer' ? 'Ended by the customer' : c.closed_by === 'system' ? 'Ended by the system' : 'Closed');
  const section = el(
    'section',
    { class: 'earlier', 'data-conversation': c.id, 'aria-label': `Earlier conversation of ${day(c.queued_at)}` },
    el('p', { class: 'divider' }, `Earlier conversation · ${day(c.queued_at)} · ${status}`),
  );
  for (const ev of entry.events) {
    const node = renderEvent(ev, c);
    if (!node) continue;
    section.append(node);
    group(node);
  }
  return section;
}

/**
 * @param {HTMLElement} node
 * @param {string} why
 */
export function failed(node, why) {
  node.classList.remove('pending');
  node.classList.add('failed');
  const state = node.querySelector('.msg-state') ?? node.appendChild(el('span', { class: 'msg-state' }));
  setText(state, why);
}

/**
 * A chat the queue's rules ended (docs/protocol.md, the closed event's
 * reason), as agents read it: "Ended by the system: the customer waited
 * longer than 2 minutes".
 * @param {ChatEvent} ev a closed event by the system
 */
export function systemCloseText(ev) {
  const limit = ev.limit_seconds ?? 0;
  switch (ev.reason) {
    case 'max_wait':
      return `Ended by the system: the customer waited longer than ${limitText(limit)}`;
    case 'queue_closed':
      return 'Ended by the system: the queue closed';
    case 'auto_finish':
      return `Ended by the system: the customer left and did not come back within ${limit} s`;
    default:
      return 'Ended by the system';
  }
}

/**
 * A rule's limit in words: "45 seconds", "2 minutes", "1 min 30 s".
 * @param {number} s seconds
 */
function limitText(s) {
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (s % 60 !== 0) return `${m} min ${s % 60} s`;
  return m === 1 ? '1 minute' : `${m} minutes`;
}
