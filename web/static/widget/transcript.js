// @ts-check
// The widget's transcript: a conversation's events and the customer's own
// messages, as text, in seq order. Own messages not yet stored have no seq
// and stay at the end until they are.

import { el, setText } from '../lib/dom.js';
import { renderMarkup } from '../lib/markup.js';
import { clock } from '../lib/util.js';

/**
 * What the customer reads of an agent joining, leaving or taking over the
 * chat (docs/protocol.md, "Invites", "Transfers"). The server names agents
 * as the queue allows: when it hides names, every agent carries the same
 * alias as the one the customer chats with, and a newcomer is "another
 * agent".
 * @param {import('../lib/types.js').ChatEvent & {target?: {kind: string, name: string}}} ev joined, left or transferred
 * @param {string} current the name of the agent the customer chats with, as shown
 * @returns {string}
 */
export function teamLine(ev, current) {
  const who = ev.author?.kind === 'agent' ? ev.author.name ?? '' : '';
  switch (ev.kind) {
    case 'joined':
      return who && who !== current ? `${who} joined the chat` : 'Another agent joined the chat';
    case 'left':
      return 'An agent left the chat';
    default:
      if (ev.target?.kind === 'queue') return `You have been transferred to ${ev.target.name}; an agent will be with you shortly`;
      return `You are now chatting with ${who || 'another agent'}`;
  }
}

export class Transcript {
  /** @param {HTMLElement} node the role=log element */
  constructor(node) {
    this.node = node;
    /** scrolled to the end, and kept there as the box grows or shrinks */
    this.stuck = true;
    node.addEventListener('scroll', () => (this.stuck = this.nearEnd()), { passive: true });
    // The box shrinks when the confirm bar, the typing line or a longer
    // message appears: the newest message stays in view.
    new ResizeObserver(() => this.stuck && this.scrollToEnd()).observe(node);
  }

  clear() {
    this.node.replaceChildren();
    this.stuck = true;
  }

  /**
   * A centred, muted line: the chat started, an agent joined, it ended.
   * @param {number} seq
   * @param {string} text
   * @param {string} time
   */
  system(seq, text, time) {
    this.place(el('p', { class: 'system', 'data-seq': seq, title: clock(time) }, text), seq);
  }

  /**
   * An agent's message, on the left, with the name once per run.
   * @param {number} seq
   * @param {string} name as the server gives it (masked per queue settings)
   * @param {string} text
   * @param {string} time
   * @returns {HTMLElement}
   */
  agent(seq, name, text, time) {
    const node = el(
      'div',
      { class: 'msg msg-agent', 'data-seq': seq, 'data-author': name },
      el('span', { class: 'msg-author' }, name),
      el('div', { class: 'bubble', title: clock(time) }, renderMarkup(text)),
    );
    this.place(node, seq);
    const prev = node.previousElementSibling;
    if (prev instanceof HTMLElement && prev.classList.contains('msg-agent') && prev.dataset.author === name) {
      node.querySelector('.msg-author')?.remove();
    }
    return node;
  }

  /**
   * One of the customer's messages, on the right: "Sending…" until
   * markSent gives it its seq.
   * @param {string} text
   * @param {string} clientId
   * @returns {HTMLElement}
   */
  own(text, clientId) {
    const node = el(
      'div',
      { class: 'msg msg-own pending', 'data-client-id': clientId || null },
      el('div', { class: 'bubble' }, renderMarkup(text)),
      el('span', { class: 'msg-state' }, 'Sending…'),
    );
    this.place(node, null);
    return node;
  }

  /**
   * The message is stored: it gets its seq and moves to its place.
   * @param {HTMLElement} node
   * @param {number} seq
   * @param {string} [time]
   */
  markSent(node, seq, time) {
    if (node.dataset.seq === String(seq)) return;
    node.classList.remove('pending', 'failed');
    node.dataset.seq = String(seq);
    const state = node.querySelector('.msg-state');
    if (state) {
      state.replaceChildren();
      state.setAttribute('hidden', '');
    }
    if (time) node.querySelector('.bubble')?.setAttribute('title', clock(time));
    this.place(node, seq);
  }

  /**
   * The message will never be stored; it says why, where it stands.
   * @param {HTMLElement} node
   * @param {string} why
   */
  markFailed(node, why) {
    node.classList.remove('pending');
    node.classList.add('failed');
    const state = node.querySelector('.msg-state');
    if (state) {
      state.removeAttribute('hidden');
      setText(state, why);
    }
  }

  /**
   * Puts a node in seq order: after everything with a lower seq, before
   * messages still being sent. seq null: at the very end.
   * @param {HTMLElement} node
   * @param {number | null} seq
   */
  place(node, seq) {
    const stick = this.stuck || node.classList.contains('msg-own');
    /** @type {Element | null} */
    let before = null;
    if (seq !== null) {
      for (let n = this.node.lastElementChild; n; n = n.previousElementSibling) {
        if (n === node) continue;
        const s = n instanceof HTMLElement && n.dataset.seq ? Number(n.dataset.seq) : null;
        if (s === null ? n.classList.contains('pending') : s > seq) before = n;
        else break;
      }
    }
    if (before) this.node.insertBefore(node, before);
    else if (node !== this.node.lastElementChild) this.node.appendChild(node);
    if (stick) this.scrollToEnd();
  }

  nearEnd() {
    const n = this.node;
    return n.scrollHeight - n.scrollTop - n.clientHeight < 48;
  }

  scrollToEnd() {
    this.node.scrollTop = this.node.scrollHeight;
  }
}
