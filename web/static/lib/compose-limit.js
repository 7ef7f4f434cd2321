// @ts-check
// The length limit of a message box, as the desk and the widget show it:
// a counter once the text nears the limit, and a refusal to send over it
// that says so, the text left in the box. Nothing is ever cut: the box has
// no maxlength (a browser cuts a paste to it without a word), and the
// server refuses an over-long message with too_long (docs/protocol.md,
// chat.send).
//
// Usage:
//
//   const limit = new ComposeLimit(textarea, counterElement, errorElement);
//   if (!limit.check()) return; // on send: over the limit, and it says so
//   limit.update();             // after setting textarea.value by script

import { setText } from './dom.js';

/** chat.send's limit, in characters (Unicode code points, as the server counts them). */
export const MAX_TEXT = 4000;
/** The counter shows from this many characters on. */
const COUNT_FROM = 3500;

const number = new Intl.NumberFormat('en');

/**
 * The length of text as the server counts it: code points, so an emoji is
 * one character and not two.
 * @param {string} text
 */
export function textLength(text) {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

export class ComposeLimit {
  /**
   * @param {HTMLTextAreaElement} box
   * @param {HTMLElement} counter shows "3,612 / 4,000" near the limit
   * @param {HTMLElement} error shows why a send was refused (role="alert")
   */
  constructor(box, counter, error) {
    this.box = box;
    this.counter = counter;
    this.error = error;
    box.removeAttribute('maxlength');
    box.addEventListener('input', () => this.update());
    this.update();
  }

  /** The length of what would be sent (the text trimmed, as it is sent). */
  get length() {
    return textLength(this.box.value.trim());
  }

  /** Shows the counter near the limit, and takes a refusal away once the text fits. */
  update() {
    const n = this.length;
    const over = n > MAX_TEXT;
    this.counter.hidden = n < COUNT_FROM;
    this.counter.dataset.over = String(over);
    setText(this.counter, `${number.format(n)} / ${number.format(MAX_TEXT)}`);
    this.counter.setAttribute('aria-label', over ? `${number.format(n - MAX_TEXT)} characters over the limit` : `${number.format(MAX_TEXT - n)} characters left`);
    if (over) this.box.setAttribute('aria-invalid', 'true');
    else this.box.removeAttribute('aria-invalid');
    if (!over) this.error.hidden = true;
  }

  /**
   * Whether the text may be sent. Over the limit it says by how much and
   * what to do, and the text stays in the box.
   */
  check() {
    this.update();
    const n = this.length;
    if (n <= MAX_TEXT) return true;
    setText(
      this.error,
      `This message is ${number.format(n)} characters long, ${number.format(n - MAX_TEXT)} over the limit of ${number.format(MAX_TEXT)}. ` +
        'Shorten it or send it in parts; nothing was sent.',
    );
    this.error.hidden = false;
    this.box.setAttribute('aria-describedby', this.error.id);
    this.box.focus();
    return false;
  }
}
