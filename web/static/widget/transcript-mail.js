// @ts-check
// The transcript by e-mail after the chat (docs/protocol.md,
// chat.transcript_email): when the queue offers it (settings
// transcript_email "ask") and the chat has ended, "E-mail me the
// transcript" with the address prefilled from the pre-chat form; then
// where it went. A queue that sends it always needs no form.

import { el, setText } from '../lib/dom.js';

/**
 * @typedef {(email: string) => Promise<void>} SendTranscript
 * @typedef {{message: string, code?: string}} Failure
 */

export class TranscriptMailForm {
  /**
   * @param {HTMLElement} slot where the form goes (the ended bar)
   * @param {SendTranscript} send sends chat.transcript_email for the chat on screen
   */
  constructor(slot, send) {
    this.send = send;
    /** @type {number | null} the conversation on screen */
    this.conversationId = null;
    /** @type {Map<number, string>} conversations whose transcript went, and where */
    this.sent = new Map();

    this.email = /** @type {HTMLInputElement} */ (
      el('input', { id: 'parley-transcript-email', class: 'transcript-mail-email', type: 'email', autocomplete: 'email', required: true })
    );
    const label = el('label', { for: 'parley-transcript-email', class: 'feedback-label' }, 'Send the transcript to');
    this.error = el('p', { class: 'feedback-error', role: 'alert' });
    this.submit = /** @type {HTMLButtonElement} */ (el('button', { class: 'button transcript-mail-send', type: 'submit' }, 'E-mail me the transcript'));
    this.form = el('form', { class: 'transcript-mail', 'aria-label': 'Get the transcript', novalidate: true }, label, this.email, this.error, this.submit);
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.sendNow().catch((err) => console.error('parley widget: transcript', err));
    });
    this.done = el('p', { class: 'transcript-mail-done', role: 'status', 'aria-live': 'polite' });
    this.form.hidden = true;
    this.done.hidden = true;
    slot.append(this.form, this.done);
  }

  /**
   * Shows what fits conversation id.
   * @param {number | null} id the ended conversation on screen, or null
   * @param {boolean} offered the queue offers the transcript by e-mail
   * @param {string} email the address the customer gave, to prefill
   */
  render(id, offered, email) {
    if (id !== this.conversationId) {
      this.conversationId = id;
      this.email.value = email;
      setText(this.error, '');
      this.submit.disabled = false;
    }
    const to = id === null ? undefined : this.sent.get(id);
    this.form.hidden = id === null || !offered || to !== undefined;
    this.done.hidden = to === undefined;
    setText(this.done, to ? `The transcript is on its way to ${to}.` : to === '' ? 'The transcript was already sent.' : '');
  }

  async sendNow() {
    const id = this.conversationId;
    if (id === null) return;
    const email = this.email.value.trim();
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
      setText(this.error, 'Enter an e-mail address such as you@example.com.');
      this.email.focus();
      return;
    }
    this.submit.disabled = true;
    setText(this.error, '');
    try {
      await this.send(email);
    } catch (err) {
      const f = /** @type {Failure} */ (err);
      if (f.code === 'conflict' && /already/.test(f.message)) {
        this.finish(id, '');
        return;
      }
      setText(this.error, `The transcript was not sent: ${f.message || 'try again'}.`);
      this.submit.disabled = false;
      return;
    }
    this.finish(id, email);
  }

  /**
   * @param {number} id
   * @param {string} to where it went ("" when sent before)
   */
  finish(id, to) {
    this.sent.set(id, to);
    if (this.conversationId === id) this.render(id, true, to);
  }
}
