// @ts-check
// Typing, both ways (docs/protocol.md, chat.typing): the agent's "… is
// typing…" line, and the customer's own typing told to the agent at most
// every 3 s, with false when the box empties or a message goes.

import { setText } from '../lib/dom.js';

const SEND_EVERY_MS = 3000;
const SHOWN_MS = 6000; // the agent's line without a refresh

export class Typing {
  /**
   * @param {HTMLElement} line where the agent's typing shows
   * @param {(typing: boolean) => boolean} send says it to the server;
   *   false when it could not (not connected, no open chat)
   */
  constructor(line, send) {
    this.line = line;
    this.send = send;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.sentAt = 0;
    this.on = false;
  }

  /** @param {string} name the agent typing */
  show(name) {
    setText(this.line, `${name || 'The agent'} is typing…`);
    this.line.hidden = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.hide(), SHOWN_MS);
  }

  hide() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.line.hidden = true;
    this.line.replaceChildren();
  }

  /**
   * The customer's box changed.
   * @param {boolean} hasText
   */
  input(hasText) {
    if (hasText && Date.now() - this.sentAt >= SEND_EVERY_MS) this.say(true);
    else if (!hasText && this.on) this.say(false);
  }

  /** A message went: the customer stopped typing. */
  stop() {
    if (this.on) this.say(false);
  }

  /** A new conversation: nothing said yet. */
  reset() {
    this.hide();
    this.on = false;
    this.sentAt = 0;
  }

  /** @param {boolean} typing */
  say(typing) {
    if (!this.send(typing)) return;
    this.on = typing;
    this.sentAt = typing ? Date.now() : 0;
  }
}
