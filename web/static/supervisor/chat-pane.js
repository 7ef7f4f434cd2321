// @ts-check
// The chat pane ("Spy"): one conversation, live and read-only. A header
// (customer, queue, agents, state, times, its contact and its ticket, the
// ticket's state following ticket.changed), every event as it happens
// (messages, private notes marked, comments, room and team events), who is
// typing on either side, a "Watch video" button while the chat has a live
// room, and the staff comments box. There is no message box: nothing here
// writes to the customer, and the customer is told nothing (the server's
// proof: cmd/parley/spy_test.go).
//
// Delivery as the desk's (../lib/delivery.js): chat.resume subscribes and
// reads, events are shown once in seq order, a gap is filled with
// chat.resume after the highest seq shown, and after every hello and
// session.resync the chat is resumed. The protocol has no unsubscribe: a
// chat replaced by another is not followed here any more, and its events
// are ignored.
//
// A link to /supervisor#chat=42 opens chat 42 (openFromHash).

import { el, setText } from '../lib/dom.js';
import { Delivery } from '../lib/delivery.js';
import { day, errorText, hhmm, isDisconnected, storageOf } from '../lib/util.js';
import { group, renderEvent } from '../desk/render.js';
import { markChosen } from '../desk/options.js';
import { CommentBox } from '../desk/comments.js';
import { watchChatRoom } from './monitor.js';
import { assignChat } from './assign.js';
import { verifiedFact } from '../desk/identity.js';
import { holdText } from '../lib/hold-time.js';

/**
 * @typedef {{id: number, name: string, paired_by: string}} PairedContact the contact a chat is paired with (staff)
 * @typedef {{id: number, title: string, state: string, priority: string}} LinkedTicket the ticket a chat is linked to (staff)
 * @typedef {import('../lib/types.js').Conversation & {agents?: {id?: number, name: string}[], contact?: PairedContact | null, ticket?: LinkedTicket | null}} Conversation
 * @typedef {import('../lib/types.js').ChatEvent} ChatEvent
 * @typedef {import('../lib/types.js').WithEvents} WithEvents
 * @typedef {import('./types.js').Ctx} Ctx
 */

/** Kinds after which the header is read again (agents, state, times, contact, ticket). */
const HEADER_KINDS = new Set(['accepted', 'joined', 'left', 'transferred', 'closed', 'wrapped_up', 'contact_paired', 'contact_unpaired', 'ticket_linked', 'ticket_unlinked']);
const TYPING_SHOWN_MS = 6000;
/** How a chat came to be paired with its contact (docs/protocol.md, "Contacts (staff)"). */
const PAIRED_TEXT = /** @type {Record<string, string>} */ ({
  external_id: 'by the verified id',
  email: 'by the verified e-mail',
  visitor: 'the same visitor',
  staff: 'paired by staff',
});
const STYLES = ['/static/desk/chat.css', '/static/desk/comments.css', '/static/supervisor/chat-pane.css'];

/** @type {Spy | null} the chat open in the pane */
let current = null;
/** @type {WeakSet<Ctx>} contexts whose connection this module listens to */
const wired = new WeakSet();

/**
 * Opens conversation id in ctx.panes.chat, replacing the chat shown.
 * @param {Ctx} ctx
 * @param {number} conversationId
 */
export function openChat(ctx, conversationId) {
  styles();
  wire(ctx);
  current?.stop();
  current = new Spy(ctx, conversationId);
  void current.resume();
}

/**
 * Opens the chat a #chat=ID link names, once the console is connected.
 * @param {Ctx} ctx
 */
export function openFromHash(ctx) {
  const m = /^#chat=(\d+)$/.exec(location.hash);
  if (m && Number(m[1]) !== current?.id) openChat(ctx, Number(m[1]));
}

/** The pane's styles, once: the desk's transcript and comments, and the pane's own. */
function styles() {
  for (const href of STYLES) {
    if (document.querySelector(`link[href="${href}"]`)) continue;
    document.head.append(el('link', { rel: 'stylesheet', href }));
  }
}

/**
 * The connection's events, routed to the chat shown.
 * @param {Ctx} ctx
 */
function wire(ctx) {
  if (wired.has(ctx)) return;
  wired.add(ctx);
  const conn = ctx.conn;
  conn.on('chat.event', (ev) => current?.event(ev));
  conn.on('chat.typing', (d) => current?.typing(d));
  conn.on('chat.presence', (d) => current?.presence(d));
  conn.on('room.opened', (d) => current?.roomOpened(d));
  conn.on('ticket.changed', (d) => current?.ticketChanged(d.ticket));
  conn.on('session.resync', () => void current?.resume());
  conn.on('chat.access_ended', (d) => {
    if (d.conversation_id === current?.id) current?.notice('You can no longer follow this chat.');
  });
  const before = conn.onhello;
  conn.onhello = (hello) => {
    before?.(hello);
    if (current) void current.resume();
  };
  window.addEventListener('hashchange', () => openFromHash(ctx));
}

class Spy {
  /**
   * @param {Ctx} ctx
   * @param {number} id
   */
  constructor(ctx, id) {
    this.ctx = ctx;
    this.id = id;
    this.stopped = false;
    this.resuming = false;
    this.resumeAgain = false;
    /** @type {Conversation | null} */
    this.conv = null;
    /** the live room's id, or null */
    this.roomId = /** @type {string | null} */ (null);
    /** @type {Map<string, {name: string, private: boolean, timer: ReturnType<typeof setTimeout>}>} who types, by side */
    this.typers = new Map();
    this.delivery = new Delivery({ store: storageOf('sessionStorage'), key: `parley.spy.${id}`, parse: () => null, holdGaps: true });

    this.title = el('h2', { class: 'spy-title', id: `spy-title-${id}` }, `Chat ${id}`);
    this.facts = el('dl', { class: 'spy-facts' });
    this.status = el('p', { class: 'spy-status', role: 'status', 'aria-live': 'polite' }, 'Loading…');
    this.watchButton = el('button', { class: 'button', type: 'button', hidden: true }, 'Watch video');
    this.assignButton = el('button', { class: 'button', type: 'button', hidden: true }, 'Assign…');
    this.closeButton = el('button', { class: 'button button-quiet', type: 'button', 'aria-label': 'Close the chat pane' }, 'Close');
    this.video = el('div', { class: 'spy-video' });
    this.events = el('div', { class: 'events' });
    this.log = el('div', { class: 'transcript spy-transcript', role: 'log', 'aria-live': 'polite', 'aria-label': 'The chat, live', tabindex: 0 }, this.events);
    this.typingLine = el('p', { class: 'typing spy-typing', 'aria-live': 'polite', hidden: true });
    this.comments = new CommentBox({ conn: ctx.conn, conversation: () => (this.stopped ? null : this.id) });

    const pane = ctx.panes.chat;
    pane.hidden = false;
    pane.setAttribute('aria-labelledby', this.title.id);
    pane.dataset.conversation = String(id);
    pane.replaceChildren(
      el(
        'header',
        { class: 'spy-header' },
        el('div', { class: 'spy-heading' }, this.title, el('div', { class: 'spy-actions' }, this.assignButton, this.watchButton, this.closeButton)),
        el('p', { class: 'spy-readonly' }, 'Read-only: you follow this chat unseen. The customer is not told.'),
        this.facts,
        this.status,
      ),
      this.video,
      this.log,
      this.typingLine,
      this.comments.form,
    );
    this.watchButton.addEventListener('click', () => {
      this.watchButton.disabled = true;
      try {
        watchChatRoom(ctx, id, this.video);
      } finally {
        this.watchButton.disabled = false;
      }
    });
    this.assignButton.addEventListener('click', () => assignChat(ctx, this.conv ?? { id }));
    this.closeButton.addEventListener('click', () => {
      this.stop();
      if (current === this) current = null;
      pane.replaceChildren();
      pane.hidden = true;
      if (location.hash === `#chat=${id}`) history.replaceState(null, '', location.pathname + location.search);
    });
  }

  /** Another chat replaces this one: its events are ignored from now on. */
  stop() {
    this.stopped = true;
    for (const t of this.typers.values()) clearTimeout(t.timer);
    this.typers.clear();
    this.video.replaceChildren();
  }

  /**
   * Follows the chat (again) and shows every event after the highest
   * shown. One at a time; a call meanwhile makes it go round once more.
   */
  async resume() {
    if (this.stopped) return;
    if (this.resuming) {
      this.resumeAgain = true;
      return;
    }
    this.resuming = true;
    try {
      do {
        this.resumeAgain = false;
        if (!this.ctx.conn.ready) return;
        const answer = /** @type {WithEvents} */ (
          await this.ctx.conn.request('chat.resume', { conversation_id: this.id, after_seq: this.delivery.highest })
        );
        if (this.stopped) return;
        this.conv = /** @type {Conversation} */ (answer.conversation);
        for (const ev of answer.events) this.take(ev);
        this.header();
        this.notice('');
      } while (this.resumeAgain && !this.stopped);
    } catch (err) {
      if (this.stopped || isDisconnected(err)) return;
      const code = /** @type {{code?: string}} */ (err).code;
      this.notice(code === 'not_found' ? 'There is no such chat, or you may not see it.' : `Could not load the chat: ${errorText(err)}`);
    } finally {
      this.resuming = false;
    }
  }

  /** @param {ChatEvent} ev a chat.event */
  event(ev) {
    if (this.stopped || ev.conversation_id !== this.id) return;
    this.take(ev);
  }

  /**
   * Shows ev once, in order; a gap below it is filled by a resume.
   * @param {ChatEvent} ev
   */
  take(ev) {
    if (!this.delivery.apply(ev)) {
      if (ev.seq > this.delivery.highest) void this.resume();
      return;
    }
    this.show(ev);
    for (let next = this.delivery.next(); next; next = this.delivery.next()) this.show(next);
  }

  /** @param {ChatEvent} ev */
  show(ev) {
    if (!this.conv) return;
    const near = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 48;
    const node = renderEvent(ev, this.conv);
    if (node) {
      this.events.append(node);
      group(node);
      if (near) this.log.scrollTop = this.log.scrollHeight;
    }
    markChosen(this.events, ev);
    if (ev.kind === 'message') this.typed(ev.author?.kind === 'customer' ? 'customer' : `agent:${ev.author?.name}`, null);
    if (ev.kind === 'room_created' && ev.room_id) this.roomId = ev.room_id;
    if ((ev.kind === 'room_ended' && (!ev.room_id || ev.room_id === this.roomId)) || ev.kind === 'closed') this.roomId = null;
    if (HEADER_KINDS.has(ev.kind) && this.conv.last_seq < ev.seq) void this.resume();
    this.renderWatch();
  }

  /** @param {{conversation_id: number, author?: {kind: string, name: string}, typing: boolean, private?: boolean}} d */
  typing(d) {
    if (this.stopped || d.conversation_id !== this.id || !d.author) return;
    if (d.author.name === this.ctx.me.name && d.author.kind !== 'customer') return;
    const side = d.author.kind === 'customer' ? 'customer' : `agent:${d.author.name}`;
    this.typed(side, d.typing ? { name: d.author.name, private: d.private === true } : null);
  }

  /**
   * Who types on a side, or null when they stopped.
   * @param {string} side
   * @param {{name: string, private: boolean} | null} who
   */
  typed(side, who) {
    const old = this.typers.get(side);
    if (old) clearTimeout(old.timer);
    this.typers.delete(side);
    if (who) this.typers.set(side, { ...who, timer: setTimeout(() => this.typed(side, null), TYPING_SHOWN_MS) });
    const lines = [...this.typers.values()].map((t) => `${t.name} is typing${t.private ? ' a private note' : ''}…`);
    setText(this.typingLine, lines.join(' · '));
    this.typingLine.hidden = lines.length === 0;
  }

  /** @param {{conversation_id: number, customer_online: boolean}} d */
  presence(d) {
    if (this.stopped || d.conversation_id !== this.id || !this.conv) return;
    this.conv = { ...this.conv, customer: { ...this.conv.customer, online: d.customer_online } };
    this.header();
  }

  /**
   * A ticket changed: the chat's Ticket fact follows its own.
   * @param {LinkedTicket} t
   */
  ticketChanged(t) {
    const c = this.conv;
    if (this.stopped || !c?.ticket || c.ticket.id !== t.id) return;
    this.conv = { ...c, ticket: { id: t.id, title: t.title, state: t.state, priority: t.priority } };
    this.header();
  }

  /** @param {{room: {id: string, conversation_id?: number | null}}} d */
  roomOpened(d) {
    if (this.stopped || d.room?.conversation_id !== this.id) return;
    this.roomId = d.room.id;
    this.renderWatch();
  }

  renderWatch() {
    this.watchButton.hidden = this.roomId === null || this.conv?.state === 'closed';
  }

  /** @param {string} text */
  notice(text) {
    setText(this.status, text);
    this.status.hidden = text === '';
  }

  header() {
    const c = this.conv;
    if (!c) return;
    setText(this.title, `Chat with ${c.customer.name}`);
    this.assignButton.hidden = c.state !== 'active'; // chat.assign takes a chat an agent has
    const agents = (c.agents?.length ? c.agents : c.agent ? [c.agent] : []).map((a) => a.name).join(', ');
    const online = c.state !== 'closed' && c.customer.online === true;
    const state = c.state === 'closed' ? `Closed${c.close_status ? ` — ${c.close_status}` : ''}` : c.wrap_up_due ? 'Wrap-up due' : capital(c.state);
    /** @type {[string, string, string][]} label, value, key */
    const rows = [
      ['Customer', [c.customer.name, c.customer.email, c.customer.extra].filter(Boolean).join(' · ') + (online ? ' (online)' : ' (away)'), 'customer'],
      ['Queue', c.queue.name, 'queue'],
      ['Agents', agents || 'None yet', 'agents'],
      ['State', state, 'state'],
      ['Started', when(c.queued_at), 'queued'],
      ['Accepted', c.accepted_at ? when(c.accepted_at) : '—', 'accepted'],
    ];
    if (c.closed_at) rows.push(['Closed', when(c.closed_at), 'closed']);
    if (c.accepted_at) rows.push(['Hold time', holdText(c), 'hold']);
    if (c.important) rows.push(['Important', '★ Marked important', 'important']);
    rows.push(['Contact', c.contact ? `${c.contact.name} (${PAIRED_TEXT[c.contact.paired_by] ?? c.contact.paired_by})` : 'Not paired', 'contact']);
    if (c.ticket) rows.push(['Ticket', `#${c.ticket.id} ${c.ticket.title} (${c.ticket.state})`, 'ticket']);
    this.facts.replaceChildren(
      ...rows.flatMap(([label, value, key]) => [el('dt', {}, label), el('dd', { 'data-fact': key }, value)]),
      ...(verifiedFact(c) ?? []),
    );
    this.renderWatch();
  }
}

/** @param {string} iso */
function when(iso) {
  const today = day(new Date().toISOString());
  return day(iso) === today ? hhmm(iso) : `${day(iso)} ${hhmm(iso)}`;
}

/** @param {string} s */
function capital(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}
