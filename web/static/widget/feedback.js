// @ts-check
// The rating after the chat (docs/protocol.md, chat.feedback): when the
// queue asks (settings.feedback) and the chat has ended, "How was this
// chat?" with five buttons 1–5, an optional note and Send; then the
// thanks. A chat already rated (the conversation's feedback_given, or
// rated in this page) is not asked again.

import { el, setText } from '../lib/dom.js';

/** The longest note, in code points (the server's limit). */
const MAX_NOTE = 1000;

/**
 * @typedef {(rating: number, comment: string) => Promise<void>} SendFeedback
 * @typedef {{message: string, code?: string}} Failure
 */

export class FeedbackForm {
  /**
   * @param {HTMLElement} slot where the form goes (the ended bar)
   * @param {SendFeedback} send sends chat.feedback for the chat on screen
   */
  constructor(slot, send) {
    this.send = send;
    /** @type {number | null} the conversation asked about */
    this.conversationId = null;
    /** @type {Set<number>} conversations rated in this page */
    this.rated = new Set();
    this.rating = 0;

    this.question = el('h2', { class: 'feedback-question', id: 'parley-feedback-question' }, 'How was this chat?');
    /** @type {HTMLButtonElement[]} */
    this.stars = [1, 2, 3, 4, 5].map((n) => {
      const b = el('button', { class: 'feedback-star', type: 'button', 'aria-pressed': 'false', 'aria-label': `${n} of 5` }, String(n));
      b.addEventListener('click', () => this.choose(n));
      return b;
    });
    const group = el('div', { class: 'feedback-stars', role: 'group', 'aria-labelledby': 'parley-feedback-question' }, ...this.stars);
    this.note = el('textarea', { id: 'parley-feedback-note', class: 'feedback-note', rows: 2, maxlength: MAX_NOTE });
    const noteLabel = el('label', { for: 'parley-feedback-note', class: 'feedback-label' }, 'Add a note (optional)');
    this.error = el('p', { class: 'feedback-error', role: 'alert' });
    this.submit = el('button', { class: 'button button-primary feedback-send', type: 'submit', disabled: true }, 'Send');
    this.form = el('form', { class: 'feedback', 'aria-labelledby': 'parley-feedback-question' },
      this.question, group, noteLabel, this.note, this.error, this.submit);
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.sendNow().catch((err) => console.error('parley widget: feedback', err));
    });
    this.thanks = el('p', { class: 'feedback-thanks' });
    this.live = el('div', { class: 'feedback-live', 'aria-live': 'polite' }, this.thanks);
    this.form.hidden = true;
    this.live.hidden = true;
    slot.prepend(this.form, this.live);
  }

  /**
   * Shows what fits conversation id: the form when the queue asks and it
   * was not rated, the thanks right after rating it, or nothing.
   * @param {number | null} id the ended conversation on screen, or null
   * @param {boolean} asks the queue asks for feedback
   * @param {boolean} given the server says it was rated
   */
  render(id, asks, given) {
    if (id !== this.conversationId) {
      this.conversationId = id;
      this.reset();
    }
    const done = id !== null && this.rated.has(id);
    this.form.hidden = id === null || !asks || given || done;
    this.live.hidden = !done;
  }

  /** Clears the choice, the note and any error. */
  reset() {
    this.rating = 0;
    this.note.value = '';
    setText(this.error, '');
    setText(this.thanks, '');
    this.submit.disabled = true;
    this.submit.textContent = 'Send';
    for (const b of this.stars) b.setAttribute('aria-pressed', 'false');
  }

  /** @param {number} n */
  choose(n) {
    this.rating = n;
    this.stars.forEach((b, i) => b.setAttribute('aria-pressed', String(i + 1 === n)));
    this.submit.disabled = false;
    setText(this.error, '');
  }

  async sendNow() {
    const id = this.conversationId;
    if (id === null || this.rating < 1) return;
    const note = this.note.value.trim();
    if ([...note].length > MAX_NOTE) {
      setText(this.error, `The note is too long: at most ${MAX_NOTE} characters.`);
      return;
    }
    this.submit.disabled = true;
    setText(this.error, '');
    try {
      await this.send(this.rating, note);
    } catch (err) {
      const f = /** @type {Failure} */ (err);
      if (f.code === 'conflict' && /already/.test(f.message)) {
        this.done(id); // rated already, from another tab
        return;
      }
      setText(this.error, `Your feedback was not sent: ${f.message || 'try again'}.`);
      this.submit.disabled = false;
      return;
    }
    if (this.conversationId === id) this.done(id);
  }

  /** @param {number} id */
  done(id) {
    this.rated.add(id);
    this.form.hidden = true;
    this.live.hidden = false;
    setText(this.thanks, 'Thank you for your feedback.');
  }
}
