// @ts-check
// The widget's offline panel: what the customer sees when no chat can
// start or their chat could not go on (the queue is closed or disabled,
// full, or the wait was too long): the queue's message and, when the
// queue has one, the offline form (name, e-mail, message).

import { el, setText } from '../lib/dom.js';

/**
 * @typedef {object} OfflineShow
 * @property {string} message what the queue says (offline_message or unavailable_message)
 * @property {boolean} form whether to offer the offline form (the queue's offline_form)
 * @property {{name?: string, email?: string}=} prefill what the customer already told us
 */

export class OfflinePanel {
  /** @param {HTMLElement} root the panel's element, hidden until shown */
  constructor(root) {
    this.root = root;
    this.text = el('p', { class: 'offline-message', id: 'parley-offline-message' });
    this.root.replaceChildren(this.text);
  }

  /**
   * Shows the panel with what.message.
   * @param {OfflineShow} what
   */
  show(what) {
    setText(this.text, what.message);
    this.root.hidden = false;
  }

  hide() {
    this.root.hidden = true;
  }
}
