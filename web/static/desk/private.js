// @ts-check
// The compose box's private mode: the eye toggle. While it is on, what the
// agent sends is a private note (chat.send "private": true) and the typing
// is private too (the server tells staff only); the compose area turns the
// private colour and says so in words. The mode belongs to each chat tab
// (ChatSession.privateNote): switching tabs shows that chat's mode.

import { byId, setText } from '../lib/dom.js';

const PLACEHOLDER = 'Write a reply…';
const PLACEHOLDER_PRIVATE = 'Write a private note: only staff see it…';

export class PrivateToggle {
  /**
   * @param {(on: boolean) => void} changed the agent switched the mode
   */
  constructor(changed) {
    this.button = /** @type {HTMLButtonElement} */ (byId('private-toggle'));
    this.form = byId('compose-form');
    this.compose = /** @type {HTMLTextAreaElement} */ (byId('compose'));
    this.banner = byId('private-banner');
    this.status = byId('private-status');
    this.send = byId('send');
    this.button.addEventListener('click', () => {
      const on = !this.on;
      this.show(on);
      // Said once, for screen readers, when the agent switches it.
      setText(this.status, on ? 'Private mode on: only staff see your messages' : 'Private mode off: the customer sees your messages');
      changed(on);
    });
  }

  /** whether private mode is on in the compose area */
  get on() {
    return this.button.getAttribute('aria-pressed') === 'true';
  }

  /**
   * Shows the mode of the chat on screen (after a tab switch, or a click).
   * @param {boolean} on
   */
  show(on) {
    this.button.setAttribute('aria-pressed', String(on));
    this.form.classList.toggle('compose-private', on);
    this.banner.hidden = !on;
    this.compose.placeholder = on ? PLACEHOLDER_PRIVATE : PLACEHOLDER;
    setText(this.send, on ? 'Send note' : 'Send');
    if (on) this.compose.setAttribute('aria-describedby', 'private-banner');
    else this.compose.removeAttribute('aria-describedby');
  }
}
