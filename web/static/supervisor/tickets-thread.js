// @ts-check
// The ticket pane: one ticket read in full (ticket.get): its facts, its
// actions (assign, close, reopen), then its thread — the originating
// chat's transcript, drawn as the History tab draws one (history.js's
// transcriptItem), then the ticket's own events in seq order (made,
// assigned, replies by e-mail, notes, closed, reopened…) and the chats
// linked to it. A ticket.changed of the ticket shown reads it again.

import { el } from '../lib/dom.js';
import { errorText, isDisconnected } from '../lib/util.js';
import { transcriptItem } from './history.js';
import { PRIORITY_TEXT, at, ticketButtons, ticketName } from './tickets-actions.js';

/**
 * @typedef {import('./types.js').Ctx} Ctx
 * @typedef {import('./types.js').Ticket} Ticket
 * @typedef {import('./types.js').TicketEvent} TicketEvent
 * @typedef {import('./history.js').Entry} Entry
 * @typedef {import('../lib/types.js').Conversation} Conversation
 * @typedef {{ticket: Ticket, conversation: Conversation | null, transcript: Entry[], events: TicketEvent[], chats: Conversation[]}} Full
 */

const SOURCE_TEXT = /** @type {Record<string, string>} */ ({
  agent: 'made by an agent from a chat',
  manual: 'made by hand',
  offline: 'an offline message',
  max_wait: 'a chat nobody answered in time',
  queue_closed: 'a chat that ended when its queue closed',
});

const STATE_TEXT = /** @type {Record<string, string>} */ ({ unassigned: 'Unassigned', assigned: 'Assigned', closed: 'Closed' });

/** The pane where a ticket opens. */
export class TicketPane {
  /**
   * @param {Ctx} ctx
   * @param {import('./floor.js').FloorView} view
   * @param {(t: Ticket) => void} changed told of the ticket an action answered
   */
  constructor(ctx, view, changed) {
    this.ctx = ctx;
    this.view = view;
    this.tell = changed;
    /** @type {number | null} the ticket shown */
    this.id = null;
    /** @type {Ticket | null} */
    this.shown = null;
    this.reading = false;
    this.readAgain = false;
    /** the title takes the focus once the ticket opened is drawn (which scrolls it into view) */
    this.focusTitle = false;
  }

  /** @param {number} id */
  open(id) {
    const pane = this.ctx.panes.ticket;
    this.id = id;
    this.shown = null;
    this.focusTitle = true;
    pane.hidden = false;
    pane.dataset.ticket = String(id);
    pane.replaceChildren(el('h2', { class: 'sup-ticket-title' }, `Ticket #${id}`), el('p', { role: 'status' }, 'Loading…'));
    void this.read();
  }

  close() {
    this.id = null;
    this.shown = null;
    this.ctx.panes.ticket.replaceChildren();
    this.ctx.panes.ticket.hidden = true;
  }

  /** After a reconnect: read the ticket shown again. */
  reload() {
    if (this.id !== null) void this.read();
  }

  /**
   * A ticket changed: the one shown is read again when it did.
   * @param {Ticket} t
   */
  changed(t) {
    // Changes may be told out of order: an older one is no news.
    if (t.id !== this.id || !this.shown || t.last_seq < this.shown.last_seq) return;
    if (t.last_seq !== this.shown.last_seq || t.state !== this.shown.state || t.updated_at !== this.shown.updated_at) void this.read();
  }

  /** Reads the ticket shown; one at a time, a call meanwhile reads once more. */
  async read() {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.readAgain = false;
        const id = this.id;
        if (id === null) return;
        /** @type {Full} */
        let full;
        try {
          full = await this.ctx.conn.request('ticket.get', { ticket_id: id });
        } catch (err) {
          if (isDisconnected(err) || this.id !== id) continue;
          const code = /** @type {{code?: string}} */ (err).code;
          this.ctx.panes.ticket.replaceChildren(
            el('h2', { class: 'sup-ticket-title' }, `Ticket #${id}`),
            el('p', { role: 'alert' }, code === 'not_found' ? 'There is no such ticket, or you may not see it.' : `Could not load the ticket: ${errorText(err)}`),
            this.closeButton());
          continue;
        }
        if (this.id === id) this.render(full);
      } while (this.readAgain);
    } finally {
      this.reading = false;
    }
  }

  closeButton() {
    const b = el('button', { type: 'button', class: 'button button-quiet', 'aria-label': 'Close the ticket pane' }, 'Close');
    b.addEventListener('click', () => this.close());
    return b;
  }

  /** @param {Full} full */
  render(full) {
    const t = full.ticket;
    this.shown = t;
    const titleId = `ticket-title-${t.id}`;
    const pane = this.ctx.panes.ticket;
    pane.setAttribute('aria-labelledby', titleId);
    /** @type {[string, string, string][]} label, value, key */
    const rows = [
      ['State', `${STATE_TEXT[t.state] ?? t.state}${t.closed_at ? ` ${at(t.closed_at)}` : ''}`, 'state'],
      ['Assignee', t.assignee?.name ?? 'Nobody', 'assignee'],
      ['Priority', PRIORITY_TEXT[t.priority] ?? t.priority, 'priority'],
      ['Queue', t.queue.name, 'queue'],
      ['Customer', [t.customer_name, t.email].filter(Boolean).join(' · ') || 'Unknown', 'customer'],
      ['Contact', t.contact?.name ?? 'None', 'contact'],
      ['Source', SOURCE_TEXT[t.source] ?? t.source, 'source'],
      ['Created', at(t.created_at), 'created'],
    ];
    const chat = full.conversation;
    const openChat = chat ? el('button', { type: 'button', class: 'button button-quiet' }, 'Open the chat') : null;
    openChat?.addEventListener('click', () => chat && this.ctx.openChat(chat.id));
    pane.replaceChildren(
      el('header', { class: 'sup-ticket-pane-head' },
        el('div', { class: 'sup-pane-head' }, el('h2', { class: 'sup-ticket-title', id: titleId, tabindex: -1 }, `Ticket ${ticketName(t)}`), this.closeButton()),
        el('dl', { class: 'sup-ticket-facts' }, ...rows.flatMap(([label, value, key]) => [el('dt', {}, label), el('dd', { 'data-fact': key }, value)])),
        el('div', { class: 'sup-ticket-actions' }, ...ticketButtons(this.ctx, this.view, t, this.tell), openChat)),
      el('section', { class: 'sup-ticket-chat', 'aria-labelledby': `${titleId}-chat` },
        el('h3', { id: `${titleId}-chat` }, chat ? `The chat with ${chat.customer.name}` : 'No chat'),
        chat
          ? el('ol', { class: 'hist-events', 'aria-label': 'The chat' }, ...full.transcript.map(transcriptItem))
          : el('p', { class: 'sup-muted' }, 'The ticket did not come from a chat.')),
      el('section', { class: 'sup-ticket-thread', 'aria-labelledby': `${titleId}-thread` },
        el('h3', { id: `${titleId}-thread` }, 'Thread'),
        el('ol', { class: 'sup-ticket-events', 'aria-label': 'Thread' }, ...full.events.map(eventItem))),
      full.chats.length === 0
        ? ''
        : el('section', { class: 'sup-ticket-linked' }, el('h3', {}, 'Linked chats'),
          el('ul', {}, ...full.chats.map((c) => {
            const b = el('button', { type: 'button', class: 'sup-link', 'data-conversation-id': c.id }, `${c.customer.name} · ${at(c.queued_at)}`);
            b.addEventListener('click', () => this.ctx.openChat(c.id));
            return el('li', {}, b);
          }))),
    );
    if (this.focusTitle) {
      this.focusTitle = false;
      /** @type {HTMLElement | null} */ (pane.querySelector(`#${titleId}`))?.focus();
    }
  }
}

/**
 * One event of a ticket's thread.
 * @param {TicketEvent} e
 */
function eventItem(e) {
  const reply = e.kind === 'reply';
  return el('li', { class: `sup-ticket-event sup-ticket-kind-${e.kind}`, 'data-seq': e.seq },
    el('time', { class: 'hist-time', datetime: e.time }, at(e.time)),
    ' ',
    el('span', { class: 'hist-author' }, e.author.name || e.author.kind),
    ' ',
    el('span', { class: 'sup-ticket-what' }, eventText(e)),
    (reply || e.kind === 'note') && e.text ? el('p', { class: 'sup-ticket-text' }, e.text) : null);
}

/**
 * What an event says, after its author.
 * @param {TicketEvent} e
 */
function eventText(e) {
  const d = e.data ?? {};
  switch (e.kind) {
    case 'created':
      return `made the ticket (${SOURCE_TEXT[d.source] ?? d.source ?? 'by hand'})`;
    case 'reply':
      if (e.direction === 'in') return `wrote${e.channel === 'email' ? ' by e-mail' : ''}`;
      return `replied${e.channel === 'email' ? ' by e-mail' : ''}${d.to ? ` to ${d.to}` : ''}`;
    case 'note':
      return 'wrote a note';
    case 'assigned':
      return `assigned it to ${d.assignee?.name ?? 'an agent'}`;
    case 'unassigned':
      return 'unassigned it';
    case 'closed':
      return 'closed it';
    case 'reopened':
      return 'reopened it';
    case 'linked':
      return `linked chat ${d.conversation_id ?? ''}`.trim();
    case 'unlinked':
      return `unlinked chat ${d.conversation_id ?? ''}`.trim();
    case 'changed':
      return `changed ${(d.fields ?? []).map((/** @type {{field: string, old: unknown, new: unknown}} */ f) => `${f.field} from ${f.old || '—'} to ${f.new || '—'}`).join(', ')}`;
    default:
      return e.kind.replaceAll('_', ' ');
  }
}
