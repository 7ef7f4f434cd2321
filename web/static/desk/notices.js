// @ts-check
// The desk's notices under the top bar: errors of requests and what the
// server did to the agent (paused it for a missed offer). Each stays until
// it is dismissed, or until what it says is no longer true.

import { el } from '../lib/dom.js';

export class Notices {
  /** @param {HTMLElement} root */
  constructor(root) {
    this.root = root;
    /** @type {Map<string, HTMLElement>} */
    this.byKey = new Map();
  }

  /**
   * Shows a notice. One with the same key takes the old one's place.
   * @param {string} message
   * @param {{kind?: 'error' | 'info', key?: string}} [options]
   * @returns {HTMLElement}
   */
  show(message, { kind = 'error', key } = {}) {
    const dismiss = el('button', { class: 'notice-dismiss', type: 'button', 'aria-label': 'Dismiss' }, '×');
    const node = el(
      'div',
      { class: 'toast notice-item', 'data-kind': kind, role: kind === 'error' ? 'alert' : 'status' },
      el('p', { class: 'notice-text' }, message),
      dismiss,
    );
    if (key) node.dataset.key = key;
    dismiss.addEventListener('click', () => this.remove(node));
    const old = key ? this.byKey.get(key) : undefined;
    if (old) old.replaceWith(node);
    else this.root.append(node);
    if (key) this.byKey.set(key, node);
    // At most five: the oldest go.
    while (this.root.children.length > 5) {
      const first = this.root.firstElementChild;
      if (first instanceof HTMLElement) this.remove(first);
    }
    return node;
  }

  /**
   * Takes away the notice with this key, if it is shown.
   * @param {string} key
   */
  clear(key) {
    const node = this.byKey.get(key);
    if (node) this.remove(node);
  }

  /** @param {HTMLElement} node */
  remove(node) {
    const key = node.dataset.key;
    if (key && this.byKey.get(key) === node) this.byKey.delete(key);
    node.remove();
  }
}
