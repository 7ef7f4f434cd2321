// @ts-check
// The Queues tab's embed snippet (the <script> tag widget-loader.js reads)
// with a Copy button, and the Identity section's secret (identity's REST:
// GET and POST /api/admin/queues/{key}/secret), shown on request, copied,
// rotated; "not available" where the server has no such route.

import { el, setText } from '../lib/dom.js';
import { errorText } from '../lib/util.js';
import { api, ApiError } from './api.js';

/**
 * The tag a site puts on its pages (widget-loader.js).
 * @param {string} key
 */
export function snippet(key) {
  return `<script src="${location.origin}/widget.js" data-queue="${key}" async></script>`;
}

/**
 * Copies text, then says so on the button for a moment.
 * @param {string} text
 * @param {HTMLButtonElement} button
 * @param {HTMLElement} status where to say it (aria-live)
 */
async function copy(text, button, status) {
  try {
    await navigator.clipboard.writeText(text);
    setText(status, 'Copied');
    button.dataset.copied = 'true';
  } catch (err) {
    setText(status, `Could not copy: ${errorText(err)}. Select the text and copy it.`);
  }
}

export class Embed {
  constructor() {
    this.code = el('code', { id: 'q-snippet' });
    this.copyButton = /** @type {HTMLButtonElement} */ (el('button', { type: 'button', class: 'button qf-small' }, 'Copy'));
    this.status = el('span', { class: 'qf-hint', role: 'status', 'aria-live': 'polite' });
    this.note = el('p', { class: 'qf-hint' });
    this.root = el(
      'div',
      { class: 'qe' },
      el('p', { class: 'qf-hint' }, 'Put this on every page of your site where the chat should show, before </body>:'),
      el('pre', { class: 'qe-snippet', 'aria-label': 'Embed snippet' }, this.code),
      el('div', { class: 'qf-inline' }, this.copyButton, this.status),
      this.note,
    );
    this.copyButton.addEventListener('click', () => void copy(this.code.textContent ?? '', this.copyButton, this.status));
  }

  /**
   * @param {string} key
   * @param {boolean} saved the queue exists (the snippet works)
   */
  show(key, saved) {
    setText(this.code, snippet(key || 'KEY'));
    setText(this.status, '');
    setText(this.note, saved ? 'The page’s site must be listed under Allowed sites.' : 'It works once the queue is saved.');
  }
}

export class Secret {
  constructor() {
    this.value = el('code', { id: 'q-secret', class: 'qe-secret' });
    this.showButton = /** @type {HTMLButtonElement} */ (el('button', { type: 'button', class: 'button qf-small', 'aria-pressed': 'false' }, 'Show'));
    this.copyButton = /** @type {HTMLButtonElement} */ (el('button', { type: 'button', class: 'button qf-small' }, 'Copy'));
    this.rotateButton = /** @type {HTMLButtonElement} */ (el('button', { type: 'button', class: 'button qf-small' }, 'Rotate'));
    this.status = el('p', { class: 'qf-hint', role: 'status', 'aria-live': 'polite' });
    this.controls = el('div', { class: 'qf-inline' }, this.value, this.showButton, this.copyButton, this.rotateButton);
    this.root = el(
      'div',
      { class: 'qf-field', 'data-field': 'secret' },
      el('span', { class: 'qf-label' }, 'Signing secret'),
      el('p', { class: 'qf-hint' }, 'Your site signs customers’ identity with it. Rotating it makes the old one stop working.'),
      this.controls,
      this.status,
    );
    this.key = '';
    this.secret = '';
    this.revealed = false;
    this.showButton.addEventListener('click', () => {
      this.revealed = !this.revealed;
      this.render();
    });
    this.copyButton.addEventListener('click', () => void copy(this.secret, this.copyButton, this.status));
    this.rotateButton.addEventListener('click', () => void this.rotate());
  }

  /**
   * @param {string} key
   * @param {boolean} saved
   */
  async show(key, saved) {
    this.key = key;
    this.secret = '';
    this.revealed = false;
    this.controls.hidden = true;
    setText(this.status, saved ? 'Loading…' : 'Save the queue first.');
    if (!saved) return;
    await this.call('GET');
  }

  async rotate() {
    this.rotateButton.disabled = true;
    try {
      await this.call('POST');
      if (this.secret) setText(this.status, 'Rotated: update your site with the new secret.');
    } finally {
      this.rotateButton.disabled = false;
    }
  }

  /** @param {'GET' | 'POST'} method */
  async call(method) {
    const key = this.key;
    try {
      const res = await api(method, `/api/admin/queues/${encodeURIComponent(key)}/secret`);
      if (key !== this.key) return;
      this.secret = typeof res?.secret === 'string' ? res.secret : '';
      this.controls.hidden = false;
      setText(this.status, this.secret ? '' : 'No secret yet: Rotate makes one.');
      this.render();
    } catch (err) {
      if (key !== this.key) return;
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) {
        this.controls.hidden = true;
        setText(this.status, 'Not available on this server.');
        return;
      }
      setText(this.status, `The secret could not be read: ${errorText(err)}`);
    }
  }

  render() {
    setText(this.value, this.secret ? (this.revealed ? this.secret : '•'.repeat(16)) : '');
    setText(this.showButton, this.revealed ? 'Hide' : 'Show');
    this.showButton.setAttribute('aria-pressed', String(this.revealed));
    this.showButton.disabled = this.copyButton.disabled = !this.secret;
  }
}
