// @ts-check
// One chat in the desk: its transcript, its place in the conversation's
// event stream, and the agent's messages on their way.
//
// Delivery, as docs/protocol.md asks (../lib/delivery.js): the highest
// seq shown is kept; events at or below it are dropped; an event more than
// one above it is held and chat.resume (after_seq = highest shown) fills
// the gap, so every event is shown once, in seq order. The agent's
// messages show at once, "pending", and wait in an outbox (sessionStorage)
// until acknowledged; after every reconnect, once the chat is resumed,
// they are sent again with the same client_id, which the server stores
// only once.
//
// Everything is rendered as text (dom.js).

import { el, setText } from '../lib/dom.js';
import { failed, group, renderEarlier, renderEvent, renderMessage } from './render.js';
import { day, errorText, hhmm, isDisconnected } from '../lib/util.js';
import { newClientId } from '../lib/util.js';
import { Delivery, RETRY_CODES } from '../lib/delivery.js';
import { markChosen } from './options.js';
import { noteEvent } from './timers.js';

/**
 * @typedef {import('../lib/types.js').Conversation} Conversation
 * @typedef {import('../lib/types.js').ChatEvent} ChatEvent
 * @typedef {import('../lib/types.js').WithEvents} WithEvents
 * @typedef {import('../lib/util.js').Store} Store
 * @typedef {{client_id: string, text: string, private: boolean, files?: import('../lib/files.js').FileRef[]}} Outgoing
 *
 * @typedef {object} Host what a chat needs from the desk around it
 * @property {import('../lib/parley.js').Connection} conn
 * @property {Store} store sessionStorage
 * @property {() => string} myName the agent's name, for its own messages
 * @property {(chat: ChatSession) => void} changed the chat's state or header changed
 * @property {(chat: ChatSession) => void} customerWrote a customer message arrived that is news
 * @property {(message: string) => void} error a request failed; tell the agent
 * @property {(chat: ChatSession, ev: ChatEvent, news: boolean) => void} [shown] an event was shown (news: not on loading)
 */

const TYPING_SHOWN_MS = 6000;
const TYPING_EVERY_MS = 3000;
const HISTORY_LIMIT = 5;
const NEAR_END_PX = 48;

export class ChatSession {
  /**
   * @param {Conversation} conv
   * @param {Host} host
   */
  constructor(conv, host) {
    this.id = conv.id;
    this.conv = conv;
    this.host = host;

    /** @type {Delivery<Outgoing>} events in seq order once each; the agent's messages not yet acknowledged */
    this.delivery = new Delivery({
      store: host.store,
      key: `parley.desk.outbox.${conv.id}`,
      parse: (x) => ({ client_id: x.client_id, text: x.text, private: x.private === true }),
      holdGaps: true,
      retryCodes: [...RETRY_CODES, 'internal'],
    });
    this.resuming = false;
    this.resumeAgain = false;
    /** resumed on the current connection: messages may go */
    this.synced = false;
    /** resumed once: what arrives from now on is news */
    this.loaded = false;
    /** the server no longer lets this agent read it (not_found) */
    this.gone = false;
    /** its wrapped_up event is shown: no status is owed */
    this.wrappedUp = false;

    this.older = el('div', { class: 'history' });
    this.currentDivider = el('p', { class: 'divider divider-current', hidden: true });
    this.events = el('div', { class: 'events' });
    this.log = el(
      'div',
      { class: 'transcript', role: 'log', 'aria-live': 'polite', 'aria-label': `Messages with ${conv.customer.name}`, tabindex: 0 },
      this.older,
      this.currentDivider,
      this.events,
    );
    /** kept at the end while new events arrive, unless the agent scrolled up */
    this.stuck = true;
    this.scrollTop = 0;
    this.log.addEventListener(
      'scroll',
      () => {
        if (!this.log.isConnected) return;
        this.stuck = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < NEAR_END_PX;
        this.scrollTop = this.log.scrollTop;
      },
      { passive: true },
    );
    // The box shrinks when the typing line shows or the window gets
    // smaller: the newest event stays in view.
    new ResizeObserver(() => this.scrolled()).observe(this.log);

    /** @type {Map<string, HTMLElement>} the agent's messages sent from here, by client_id */
    this.own = new Map();
    /** @type {HTMLElement[]} own messages whose event is not shown yet: they stay at the end */
    this.unplaced = [];
    for (const item of this.delivery.items) this.placePending(item);

    this.unread = 0;
    this.draft = '';
    /** private mode of this chat's compose area (the eye), kept across reloads of the tab */
    this.privateKey = `parley.desk.private.${conv.id}`;
    this.privateNote = host.store.get(this.privateKey) === '1';
    /** who is typing on the customer's side, or "" */
    this.typingName = '';
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.typingTimer = null;
    this.typingOn = false;
    this.typingSentAt = 0;

    /** more: there are earlier conversations to load ("Load older messages" shows); unknown until probeHistory answers */
    this.history = { oldest: 0, more: false, loading: false, loaded: false, probed: false };
    /** @type {string | null} the conversation's video room while it is open */
    this.roomId = null;
  }

  get closed() {
    return this.conv.state === 'closed';
  }

  /** The customer ended the chat and it waits for this agent's status. */
  get wrapUpDue() {
    return this.closed && this.conv.wrap_up_due === true;
  }

  // ---------------------------------------------------------------- events

  /**
   * Takes a conversation's events from the server (live, or in an answer)
   * and shows each once, in order.
   * @param {ChatEvent} ev
   */
  receive(ev) {
    if (ev.conversation_id !== this.id) return;
    if (!this.delivery.apply(ev)) {
      if (ev.seq > this.delivery.highest) this.fillGap(); // held until the gap fills
      return;
    }
    this.show(ev);
    for (let next = this.delivery.next(); next; next = this.delivery.next()) this.show(next);
  }

  /** the highest seq shown */
  get highest() {
    return this.delivery.highest;
  }

  /**
   * Subscribes (again) and fetches every event after the highest shown;
   * then what waits in the outbox goes. One at a time; a call meanwhile
   * makes it go round once more.
   */
  async resume() {
    if (this.gone) return;
    if (this.resuming) {
      this.resumeAgain = true;
      return;
    }
    this.resuming = true;
    try {
      do {
        this.resumeAgain = false;
        const answer = /** @type {WithEvents} */ (
          await this.host.conn.request('chat.resume', { conversation_id: this.id, after_seq: this.highest })
        );
        this.update(answer.conversation);
        for (const ev of answer.events) this.receive(ev);
      } while (this.resumeAgain);
      this.loaded = true;
      this.synced = true;
      this.flush();
      this.probeHistory();
    } catch (err) {
      if (isDisconnected(err)) return; // the next hello resumes
      if (/** @type {{code?: string}} */ (err).code === 'not_found') {
        this.gone = true;
        this.host.error(`The chat with ${this.conv.customer.name} is no longer yours.`);
        this.conv = { ...this.conv, state: 'closed' };
        this.host.changed(this);
        return;
      }
      throw err;
    } finally {
      this.resuming = false;
    }
  }

  /** A gap in the events: ask for what is missing (a failure is told, and the next hello tries again). */
  fillGap() {
    this.resume().catch((err) => this.host.error(`Could not load the chat with ${this.conv.customer.name}: ${errorText(err)}`));
  }

  /**
   * Takes the answer of chat.accept: its events, then a resume, since the
   * answer was read before this connection followed the conversation.
   * @param {WithEvents} answer
   */
  accepted(answer) {
    this.update(answer.conversation);
    for (const ev of answer.events) this.receive(ev);
    this.loaded = true;
    return this.resume();
  }

  /** The connection dropped: nothing goes until the next resume. */
  offline() {
    this.synced = false;
    this.delivery.offline();
    this.typingOn = false;
  }

  /**
   * A newer view of the conversation from the server.
   * @param {Conversation} conv
   */
  update(conv) {
    // Events may be ahead of the answer's state (a close seen live).
    const closed = this.closed;
    this.conv = closed
      ? {
          ...conv,
          state: 'closed',
          closed_by: this.conv.closed_by ?? conv.closed_by,
          close_status: this.conv.close_status ?? conv.close_status,
          wrap_up_due: !this.wrappedUp && (this.conv.wrap_up_due === true || conv.wrap_up_due === true),
        }
      : conv;
    this.host.changed(this);
  }

  /**
   * The conversation's video room is open (its room_created event, or
   * room.opened).
   * @param {string} roomId
   */
  roomOpened(roomId) {
    if (this.closed || this.roomId === roomId) return;
    this.roomId = roomId;
    this.host.changed(this);
  }

  /** @param {boolean} online from chat.presence */
  setOnline(online) {
    this.conv = { ...this.conv, customer: { ...this.conv.customer, online } };
    this.host.changed(this);
  }

  /**
   * Shows the next event in order (the delivery has taken it).
   * @param {ChatEvent} ev
   */
  show(ev) {
    const news = this.loaded;
    noteEvent(this.conv, ev);
    if (ev.kind === 'message' && ev.client_id && this.own.has(ev.client_id)) {
      const node = /** @type {HTMLElement} */ (this.own.get(ev.client_id));
      this.sent(node, ev.client_id, ev.seq, ev.time);
      this.unplaced = this.unplaced.filter((n) => n !== node);
      this.place(node);
      return;
    }
    const node = renderEvent(ev, this.conv);
    if (node) this.place(node);
    markChosen(this.events, ev);
    switch (ev.kind) {
      case 'accepted':
        if (this.conv.state !== 'closed') this.conv = { ...this.conv, state: 'active', agent: { name: ev.author.name } };
        break;
      case 'message':
        if (ev.author.kind === 'customer') {
          this.typingShown('');
          if (news) this.host.customerWrote(this);
        }
        break;
      case 'room_created':
        if (ev.room_id) this.roomOpened(ev.room_id);
        break;
      case 'room_ended':
        if (!ev.room_id || ev.room_id === this.roomId) {
          this.roomId = null;
          this.host.changed(this);
        }
        break;
      case 'closed':
        this.roomId = null;
        this.conv = {
          ...this.conv,
          state: 'closed',
          closed_by: ev.author.kind === 'customer' || ev.author.kind === 'system' ? ev.author.kind : 'agent',
          close_status: ev.status ?? null,
          // The customer left a chat the agent had (or the system ended it): a status is still owed.
          wrap_up_due: ev.author.kind !== 'agent' && (this.conv.state === 'active' || this.conv.wrap_up_due === true),
        };
        this.typingShown('');
        this.failOutbox('Not delivered: the chat has ended.');
        this.host.changed(this);
        break;
      case 'wrapped_up':
        this.wrappedUp = true;
        this.conv = { ...this.conv, close_status: ev.status || null, wrap_up_due: false };
        this.host.changed(this);
        break;
      default:
    }
    this.host.shown?.(this, ev, news);
  }

  /**
   * Puts an event's element after the events shown, before the agent's
   * messages still on their way.
   * @param {HTMLElement} node
   */
  place(node) {
    const next = this.unplaced[0] ?? null;
    this.events.insertBefore(node, next);
    group(node);
    if (next) group(next);
    this.scrolled();
  }

  // --------------------------------------------------------------- sending

  /**
   * The agent sends a message from the compose box.
   * @param {string} text
   * @param {boolean} isPrivate
   * @param {import('../lib/files.js').FileRef[]} [files]
   */
  send(text, isPrivate, files) {
    if (this.closed) return;
    const item = { client_id: newClientId('d'), text, private: isPrivate, files };
    this.delivery.add(item);
    this.placePending(item);
    this.stuck = true;
    this.scrolled();
    this.typing(false);
    this.flush();
  }

  /** @param {Outgoing} item */
  placePending(item) {
    const node = renderMessage({
      conversation_id: this.id,
      seq: 0,
      kind: 'message',
      author: { kind: 'agent', name: this.host.myName() },
      text: item.text,
      private: item.private,
      client_id: item.client_id,
      files: item.files,
      time: '',
    });
    node.classList.add('msg-own', 'pending');
    node.append(el('span', { class: 'msg-state' }, 'Sending…'));
    this.own.set(item.client_id, node);
    this.unplaced.push(node);
    this.events.append(node);
    group(node);
  }

  /** Sends, in order, what the outbox holds, once the chat is resumed on this connection. */
  flush() {
    const conn = this.host.conn;
    if (!conn.ready || !this.synced || this.closed) return;
    this.delivery.resend({
      send: (item) => conn.request('chat.send', { conversation_id: this.id, client_id: item.client_id, text: item.text, private: item.private, files: item.files?.map((f) => f.id) }),
      sent: (item, ack) => {
        const node = this.own.get(item.client_id);
        if (node) this.sent(node, item.client_id, ack.seq, ack.time);
      },
      failed: (item, err) => {
        const node = this.own.get(item.client_id);
        if (node) failed(node, err.code === 'conflict' ? 'Not delivered: the chat has ended.' : `Not delivered: ${errorText(err)}`);
        this.host.error(`A message to ${this.conv.customer.name} was not delivered: ${errorText(err)}`);
      },
      retry: () => this.flush(),
    });
  }

  /**
   * One of the agent's messages is stored.
   * @param {HTMLElement} node
   * @param {string} clientId
   * @param {number} seq
   * @param {string} time
   */
  sent(node, clientId, seq, time) {
    this.delivery.ack(clientId);
    node.classList.remove('pending');
    node.dataset.seq = String(seq);
    node.querySelector('.msg-state')?.remove();
    const t = node.querySelector('.msg-time');
    if (t && time) {
      setText(t, hhmm(time));
      t.setAttribute('datetime', time);
    }
  }

  /** @param {string} why */
  failOutbox(why) {
    for (const item of this.delivery.failAll()) {
      const node = this.own.get(item.client_id);
      if (node) failed(node, why);
    }
  }

  /** The tab is dismissed: forget what is kept for it. */
  forget() {
    this.delivery.forget();
    this.host.store.remove(this.privateKey);
    if (this.typingTimer !== null) clearTimeout(this.typingTimer);
  }

  /**
   * The agent switched private mode (the eye) for this chat. A typing
   * already told goes on the side it was told on: the customer is told
   * that a public reply stopped before the private note starts, and is
   * told nothing of the note.
   * @param {boolean} on
   */
  setPrivate(on) {
    if (on === this.privateNote) return;
    this.typing(false);
    this.privateNote = on;
    if (on) this.host.store.set(this.privateKey, '1');
    else this.host.store.remove(this.privateKey);
  }

  // ---------------------------------------------------------------- typing

  /**
   * The compose box changed: tell the customer, at most every 3 s while
   * typing, and once when it empties. While the agent writes a private
   * note the typing is private: the server tells staff only.
   * @param {boolean} hasText
   */
  typingInput(hasText) {
    if (hasText && Date.now() - this.typingSentAt >= TYPING_EVERY_MS) this.typing(true);
    else if (!hasText && this.typingOn) this.typing(false);
  }

  /** @param {boolean} on */
  typing(on) {
    if (!on && !this.typingOn) return;
    const conn = this.host.conn;
    if (!conn.ready || this.closed) return;
    this.typingOn = on;
    this.typingSentAt = on ? Date.now() : 0;
    conn.request('chat.typing', { conversation_id: this.id, typing: on, private: this.privateNote }).catch(() => {});
  }

  /**
   * A chat.typing event from the customer's side.
   * @param {string} name
   * @param {boolean} on
   */
  customerTyping(name, on) {
    this.typingShown(on && !this.closed ? name || this.conv.customer.name : '');
  }

  /** @param {string} name "" hides the line */
  typingShown(name) {
    if (this.typingTimer !== null) clearTimeout(this.typingTimer);
    this.typingTimer = name ? setTimeout(() => this.typingShown(''), TYPING_SHOWN_MS) : null;
    if (this.typingName === name) return;
    this.typingName = name;
    this.host.changed(this);
  }

  // --------------------------------------------------------------- history

  /**
   * Asks once whether the customer has an earlier conversation, so that
   * "Load older messages" shows only when there is something to load.
   */
  probeHistory() {
    if (this.history.probed || this.history.loaded) return;
    this.history.probed = true;
    this.host.conn.request('chat.history', { conversation_id: this.id, limit: 1 }).then(
      (/** @type {{conversations: WithEvents[]}} */ answer) => {
        if (this.history.loaded) return;
        this.history.more = answer.conversations.length > 0;
        this.log.dataset.history = this.history.more ? 'some' : 'none';
        this.host.changed(this);
      },
      () => {
        this.history.probed = false; // asked again after the next resume
      },
    );
  }

  /** Loads the customer's earlier conversations, above this one. */
  async loadOlder() {
    if (this.history.loading || !this.history.more) return;
    this.history.loading = true;
    this.host.changed(this);
    try {
      /** @type {{conversation_id: number, limit: number, before?: number}} */
      const data = { conversation_id: this.id, limit: HISTORY_LIMIT };
      if (this.history.oldest) data.before = this.history.oldest;
      const answer = /** @type {{conversations: WithEvents[], more: boolean}} */ (
        await this.host.conn.request('chat.history', data)
      );
      const fromEnd = this.log.scrollHeight - this.log.scrollTop;
      // Newest first: each goes on top of the ones before it.
      for (const entry of answer.conversations) {
        this.older.prepend(renderEarlier(entry));
        this.history.oldest = entry.conversation.id;
      }
      if (!this.history.loaded && answer.conversations.length === 0) {
        this.older.append(el('p', { class: 'divider history-empty' }, 'No earlier conversations'));
      }
      this.history.loaded = true;
      this.history.more = answer.more;
      setText(this.currentDivider, `This conversation · ${day(this.conv.queued_at)}`);
      this.currentDivider.hidden = this.history.oldest === 0;
      if (this.log.isConnected) this.log.scrollTop = this.log.scrollHeight - fromEnd;
    } catch (err) {
      this.host.error(`Could not load older messages: ${errorText(err)}`);
    } finally {
      this.history.loading = false;
      this.host.changed(this);
    }
  }

  // ------------------------------------------------------------- scrolling

  /** New content: stay at the end if we were there. */
  scrolled() {
    if (this.stuck && this.log.isConnected) this.log.scrollTop = this.log.scrollHeight;
  }

  /** The transcript was put back on the page. */
  attached() {
    if (this.stuck) this.log.scrollTop = this.log.scrollHeight;
    else this.log.scrollTop = this.scrollTop;
  }
}
