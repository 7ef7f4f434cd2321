// @ts-check
// The live chat's timers in the desk's chat header: time to first
// response (counting from accepted_at until the agent's first public
// message, then fixed), time to reply (counting while the customer's last
// public message has no public agent message after it) and time since
// start (accepted_at); coloured by the queue's service_level_seconds (the
// first) and chat_time_limits (the others), as the tabs are. The
// customer's hold time (queued → accepted) stands at the top of the
// conversation, and a toggle marks the chat important (chat.mark).
//
// The server gives first_response_at and awaiting_reply_since with the
// conversation (chat.mine, chat.accept, chat.resume); noteEvent keeps them
// live from the events shown.

import { el, setText } from '../lib/dom.js';
import { ageLevel, LEVEL_TEXT } from '../lib/chat-time.js';
import { holdText } from '../lib/hold-time.js';
import { duration, errorText } from '../lib/util.js';

/**
 * @typedef {import('../lib/types.js').Conversation} Conversation
 * @typedef {import('../lib/types.js').ChatEvent} ChatEvent
 */

/**
 * Keeps conv's timers as event ev says (an event shown in order).
 * @param {Conversation} conv
 * @param {ChatEvent} ev
 */
export function noteEvent(conv, ev) {
  if (ev.kind !== 'message' || ev.private) return;
  // The queue's greeting, sent for the agent at the accept, has no
  // client_id: it is no response.
  if (ev.author.kind === 'agent' && ev.client_id) {
    if (!conv.first_response_at) conv.first_response_at = ev.time;
    conv.awaiting_reply_since = null;
  } else if (ev.author.kind === 'customer') {
    conv.awaiting_reply_since = ev.time;
  }
}

/**
 * @param {number} ms
 * @param {number} limitS
 * @returns {import('../lib/chat-time.js').AgeLevel}
 */
function serviceLevel(ms, limitS) {
  return ms / 1000 >= limitS ? 'red' : 'green';
}

export class DeskTimers {
  /**
   * @param {import('./chats.js').Chats} chats
   * @param {import('./status.js').StatusControl} status
   * @param {import('../lib/util.js').ServerClock} clock
   */
  constructor(chats, status, clock) {
    this.chats = chats;
    this.status = status;
    this.clock = clock;
    /** @param {string} key @param {string} label */
    const timer = (key, label) => {
      const value = el('span', { class: 'timer-value' });
      const node = el('span', { class: 'timer', 'data-timer': key }, el('span', { class: 'timer-label' }, label), ' ', value);
      return { node, value };
    };
    this.first = timer('first-response', 'First response');
    this.reply = timer('reply', 'To reply');
    this.age = timer('age', 'Chat time');
    this.box = el('p', { id: 'chat-timers', class: 'chat-timers', 'aria-label': 'Chat timers' }, this.first.node, this.reply.node, this.age.node);
    this.hold = el('p', { id: 'hold-time', class: 'hold-time', hidden: true });
    this.mark = /** @type {HTMLButtonElement} */ (el('button', { id: 'mark-important', class: 'button mark-important', type: 'button', 'aria-pressed': 'false' }, '☆ Mark important'));
    this.markStatus = el('span', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });

    document.querySelector('#chat-view .chat-who')?.append(this.box);
    const slot = document.getElementById('transcript-slot');
    slot?.before(this.hold);
    document.getElementById('close-chat')?.before(this.mark, this.markStatus);
    this.mark.addEventListener('click', () => this.toggle());

    this.paint();
    setInterval(() => this.paint(), 1000);
  }

  async toggle() {
    const s = this.chats.active;
    if (!s) return;
    const important = !s.conv.important;
    this.mark.disabled = true;
    try {
      await this.chats.conn.request('chat.mark', { conversation_id: s.id, important });
      s.conv.important = important;
      setText(this.markStatus, important ? 'Marked important' : 'No longer marked important');
    } catch (err) {
      this.chats.notices.show(`Could not mark the chat: ${errorText(err)}`);
    } finally {
      this.mark.disabled = false;
      this.paint();
    }
  }

  /** Draws the active chat's timers, hold time and mark. */
  paint() {
    const s = this.chats.active;
    if (!s) return;
    const c = s.conv;
    const important = c.important === true;
    this.mark.setAttribute('aria-pressed', String(important));
    setText(this.mark, important ? '★ Important' : '☆ Mark important');

    const hold = holdText(c);
    setText(this.hold, hold);
    this.hold.hidden = hold === '';

    const live = !s.closed && c.accepted_at !== null;
    this.box.hidden = !c.accepted_at;
    if (!c.accepted_at) return;
    const queue = /** @type {{chat_time_limits?: number[], service_level_seconds?: number} | undefined} */ (
      this.status.queues.find((q) => q.id === c.queue.id)
    );
    const limits = queue?.chat_time_limits;
    const end = live ? this.clock.now() : Date.parse(c.closed_at ?? '') || this.clock.now();

    // First response: from accepted_at; fixed once the agent wrote.
    const firstMs = (c.first_response_at ? Date.parse(c.first_response_at) : end) - Date.parse(c.accepted_at);
    const sl = queue?.service_level_seconds ?? 20;
    this.show(this.first, duration(firstMs), serviceLevel(firstMs, sl), c.first_response_at ? 'fixed' : live ? 'counting' : 'none');

    // Time to reply: while the customer's last message is unanswered.
    if (live && c.awaiting_reply_since) {
      const ms = this.clock.since(c.awaiting_reply_since);
      this.show(this.reply, duration(ms), ageLevel(ms, limits), 'counting');
    } else {
      this.show(this.reply, '—', 'green', 'none');
    }

    const ageMs = end - Date.parse(c.accepted_at);
    this.show(this.age, duration(ageMs), ageLevel(ageMs, limits), live ? 'counting' : 'fixed');
  }

  /**
   * @param {{node: HTMLElement, value: HTMLElement}} t
   * @param {string} text
   * @param {import('../lib/chat-time.js').AgeLevel} level
   * @param {'counting' | 'fixed' | 'none'} state
   */
  show(t, text, level, state) {
    setText(t.value, text);
    t.node.dataset.level = level;
    t.node.dataset.state = state;
    const label = t.node.firstChild?.textContent ?? '';
    t.node.title = `${label} ${text}${LEVEL_TEXT[level] ? ` (${LEVEL_TEXT[level]})` : ''}`;
  }
}
