// @ts-check
// The waiting customer's place in line and estimated wait
// (docs/protocol.md, "chat.queue_position"): "You are 3rd in line · about
// 2 minutes", in the waiting box under its title, updated as the server
// pushes each change of the queue. The widget asks once when it starts or
// resumes a waiting chat and on session.resync, so a reconnect shows it at
// once; the events keep it current. The time waited counter stays.

import { el, setText } from '../lib/dom.js';

/** @typedef {{conversation_id: number, position: number | null, estimate_seconds: number | null}} QueuePosition */

/**
 * 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st…
 * @param {number} n
 */
export function ordinal(n) {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${{ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] ?? 'th'}`;
}

/**
 * About how long, in words: the server's estimate, or "shortly" when it
 * has none (it gives no made-up figure, nor do we).
 * @param {number | null} seconds
 */
export function estimateText(seconds) {
  if (seconds === null || seconds === undefined) return 'we will be with you shortly';
  if (seconds < 45) return 'less than a minute';
  const minutes = Math.max(1, Math.round(seconds / 60));
  return minutes === 1 ? 'about 1 minute' : `about ${minutes} minutes`;
}

/**
 * What the customer reads for a place.
 * @param {number} position 1 is next
 * @param {number | null} estimate seconds
 */
export function placeText(position, estimate) {
  const place = position === 1 ? 'You are next in line' : `You are ${ordinal(position)} in line`;
  return `${place} · ${estimateText(estimate)}`;
}

export class QueuePlace {
  /** @param {HTMLElement} box the waiting box: the line goes under its title */
  constructor(box) {
    this.line = el('p', { class: 'waiting-place waiting-time', 'aria-live': 'polite', 'aria-atomic': 'true', hidden: true });
    const title = box.querySelector('.waiting-title');
    if (title) title.after(this.line);
    else box.append(this.line);
    /** @type {number | null} the conversation whose place is shown */
    this.id = null;
  }

  /**
   * Shows a place told or answered, if it is of the conversation waiting
   * on screen (id).
   * @param {number | null} id
   * @param {QueuePosition} p
   */
  show(id, p) {
    if (id === null || p.conversation_id !== id) return;
    this.id = id;
    if (p.position === null || p.position === undefined) {
      this.line.hidden = true;
      return;
    }
    setText(this.line, placeText(p.position, p.estimate_seconds));
    this.line.hidden = false;
  }

  /**
   * Asks the server where chat id stands now.
   * @param {import('../lib/parley.js').Connection} c
   * @param {number} id
   * @param {() => number | null} current the conversation waiting on screen when the answer comes
   */
  ask(c, id, current) {
    c.request('chat.queue_position', { conversation_id: id })
      .then((p) => this.show(current(), /** @type {QueuePosition} */ (p)))
      .catch((err) => console.warn('parley widget: chat.queue_position failed', err));
  }

  /** No place to show: the chat was taken, ended or left the screen. */
  clear() {
    this.id = null;
    this.line.hidden = true;
    setText(this.line, '');
  }
}
