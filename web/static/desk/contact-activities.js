// @ts-check
// What the desk's contact card lists under the contact: its change log
// (who changed which field, and when) and its activities (contact.get:
// the conversations paired with it and its tickets, newest first, paged).
// A conversation opens read-only in a dialog: its whole transcript
// (history.get), drawn as the desk draws a chat (render.js).

import { el, setText } from '../lib/dom.js';
import { clock, day, errorText } from '../lib/util.js';
import { group, renderEvent } from './render.js';
import { FIELD_LABEL } from './contact-edit.js';

/**
 * @typedef {import('../lib/types.js').Conversation} Conversation
 * @typedef {import('../lib/types.js').ChatEvent} ChatEvent
 * @typedef {import('../lib/types.js').ContactChange} ContactChange
 * @typedef {import('../lib/types.js').ContactActivity} ContactActivity
 * @typedef {import('../lib/types.js').ContactDetails} ContactDetails
 * @typedef {{conversation: Conversation, events: ChatEvent[]}} Transcript history.get's answer (what is read here)
 */

const STATE_TEXT = /** @type {Record<string, string>} */ ({
  queued: 'Waiting',
  offered: 'Waiting',
  active: 'Open',
  closed: 'Closed',
  offline: 'Offline message',
  unassigned: 'Unassigned',
  assigned: 'Assigned',
});

/**
 * The change log, newest first: "Alice Agent · 2 Dec 2026 17:30" and
 * each field's old and new value.
 * @param {ContactChange[]} changes
 */
export function renderChanges(changes) {
  const list = el('ol', { class: 'contact-changes', 'aria-label': 'Changes' });
  for (const ch of changes) {
    const who = ch.user?.name ?? 'The system';
    const what = ch.created ? 'created the contact' : 'changed';
    list.append(
      el(
        'li',
        { class: 'contact-change' },
        el('p', { class: 'contact-change-head' }, el('strong', {}, who), ` ${what} · `, el('time', { datetime: ch.at }, when(ch.at))),
        ch.fields.length
          ? el(
              'ul',
              { class: 'contact-change-fields' },
              ...ch.fields.map((f) =>
                // Made: what it was made with; changed: from what to what.
                ch.created
                  ? el('li', {}, `${FIELD_LABEL[f.field] ?? f.field}: `, valueText(f.new))
                  : el('li', {}, `${FIELD_LABEL[f.field] ?? f.field}: `, el('del', {}, valueText(f.old)), ' → ', el('ins', {}, valueText(f.new))),
              ),
            )
          : null,
      ),
    );
  }
  return list;
}

/** "2 Dec 2026 17:30". @param {string} iso */
export function when(iso) {
  return `${day(iso)} ${clock(iso)}`;
}

/** @param {unknown} v a field's value in the change log */
function valueText(v) {
  if (Array.isArray(v)) return v.length ? v.join(', ') : '(none)';
  if (v === null || v === undefined || v === '') return '(none)';
  return String(v);
}

export class Activities {
  /**
   * @param {object} o
   * @param {import('../lib/parley.js').Connection} o.conn
   * @param {number} o.contactId
   * @param {number} o.current the chat the desk shows (marked "This chat")
   * @param {ContactDetails} o.first contact.get's first page
   * @param {((id: number) => void) | null} [o.openTicket] opens a ticket (the desk's tickets); null: tickets are only listed
   */
  constructor({ conn, contactId, current, first, openTicket = null }) {
    this.conn = conn;
    this.openTicket = openTicket;
    this.contactId = contactId;
    this.current = current;
    this.cursor = first.cursor;
    this.list = el('ol', { class: 'contact-activities', 'aria-labelledby': `contact-activities-${contactId}` });
    this.empty = el('p', { class: 'panel-empty' }, 'No conversations or tickets yet.');
    this.more = el('button', { type: 'button', class: 'button button-quiet' }, 'Show older');
    this.error = el('p', { class: 'contact-error', role: 'alert', hidden: true });
    this.root = el(
      'section',
      { class: 'contact-activities-section', 'aria-labelledby': `contact-activities-${contactId}` },
      el('h3', { id: `contact-activities-${contactId}`, class: 'contact-subtitle' }, 'Activities'),
      this.list,
      this.empty,
      this.error,
      this.more,
    );
    this.more.addEventListener('click', () => void this.older());
    this.add(first.activities);
  }

  /** @param {ContactActivity[]} activities */
  add(activities) {
    this.list.append(...activities.map((a) => this.item(a)));
    this.empty.hidden = this.list.childElementCount > 0;
    this.more.hidden = !this.cursor;
  }

  async older() {
    this.more.disabled = true;
    this.error.hidden = true;
    try {
      const page = /** @type {ContactDetails} */ (await this.conn.request('contact.get', { contact_id: this.contactId, cursor: this.cursor }));
      this.cursor = page.cursor;
      this.add(page.activities);
    } catch (err) {
      setText(this.error, `Could not load older activities: ${errorText(err)}`);
      this.error.hidden = false;
    } finally {
      this.more.disabled = false;
    }
  }

  /** @param {ContactActivity} a */
  item(a) {
    if (a.kind === 'ticket') {
      const t = a.ticket;
      const parts = [
        el('span', { class: 'contact-activity-kind' }, 'Ticket'),
        el('span', { class: 'contact-activity-title' }, `#${t.id} ${t.title}`),
        el(
          'span',
          { class: 'contact-activity-meta' },
          `${day(t.created_at)} · ${STATE_TEXT[t.state] ?? t.state}${t.assignee ? ` (${t.assignee.name})` : ''} · ${t.priority}`,
        ),
      ];
      const open = this.openTicket;
      if (!open) return el('li', { class: 'contact-activity contact-activity-ticket', 'data-ticket': t.id }, ...parts);
      const button = el('button', { type: 'button', class: 'contact-activity-open', 'aria-label': `Open the ticket #${t.id} ${t.title}` }, ...parts);
      button.addEventListener('click', () => open(t.id));
      return el('li', { class: 'contact-activity contact-activity-ticket-link', 'data-ticket': t.id }, button);
    }
    const c = a.conversation;
    const current = c.id === this.current;
    const status = c.close_status ? `${STATE_TEXT[c.state] ?? c.state}: ${c.close_status}` : (STATE_TEXT[c.state] ?? c.state);
    const meta = `${when(c.queued_at)} · ${c.queue.name} · ${c.agent?.name ?? 'no agent'} · ${status}`;
    const open = el(
      'button',
      { type: 'button', class: 'contact-activity-open', 'aria-label': `Read the chat of ${when(c.queued_at)}${current ? ' (this chat)' : ''}` },
      el('span', { class: 'contact-activity-kind' }, current ? 'This chat' : 'Chat'),
      el('span', { class: 'contact-activity-meta' }, meta),
    );
    open.addEventListener('click', () => void this.read(c));
    return el('li', { class: 'contact-activity contact-activity-chat', 'data-conversation': c.id }, open);
  }

  /**
   * A conversation's transcript, read-only, in a modal dialog.
   * @param {Conversation} c
   */
  async read(c) {
    const titleId = `contact-transcript-${c.id}`;
    const events = el('div', { class: 'events' });
    const log = el('div', { class: 'transcript contact-transcript-log', role: 'log', 'aria-label': `Transcript of the chat of ${when(c.queued_at)}`, tabindex: 0 }, events);
    const close = el('button', { type: 'button', class: 'button button-primary' }, 'Close');
    const dialog = /** @type {HTMLDialogElement} */ (
      el(
        'dialog',
        { class: 'dialog contact-transcript', 'aria-labelledby': titleId },
        el(
          'div',
          { class: 'dialog-form' },
          el('h2', { id: titleId, class: 'dialog-title' }, `Chat with ${c.customer.name}`),
          el('p', { class: 'dialog-text' }, `${when(c.queued_at)} · ${c.queue.name} · ${c.agent?.name ?? 'no agent'}`),
          log,
          el('div', { class: 'dialog-buttons' }, close),
        ),
      )
    );
    close.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => dialog.remove());
    events.append(el('p', { class: 'panel-empty' }, 'Loading…'));
    document.body.append(dialog);
    dialog.showModal();
    close.focus();
    try {
      const t = /** @type {Transcript} */ (await this.conn.request('history.get', { conversation_id: c.id }));
      events.replaceChildren();
      for (const ev of t.events) {
        const node = renderEvent(ev, t.conversation);
        if (!node) continue;
        events.append(node);
        group(node);
      }
      if (!events.firstChild) events.append(el('p', { class: 'panel-empty' }, 'Nothing was said.'));
    } catch (err) {
      events.replaceChildren(el('p', { class: 'contact-error', role: 'alert' }, `Could not read the chat: ${errorText(err)}`));
    }
  }
}
