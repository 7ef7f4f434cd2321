// @ts-check
// Questions with options in the widget (docs/protocol.md, "Questions with
// options"): an agent's message that carries options shows its buttons
// under the text; a click sends the choice (chat.send with choice) and
// the customer's answer comes back as the customer's message, the
// option's label. After a choice, the buttons are disabled and the chosen
// one marked: from the live answer (its choice), and after a reload from
// the question's answered. A refused choice enables them again and says
// why, under them.

import { el, setText } from '../lib/dom.js';
import { errorText, newClientId } from '../lib/util.js';

/**
 * @typedef {{id: number, label: string}} Option
 * @typedef {import('../lib/types.js').ChatEvent & {
 *   options?: Option[],
 *   answered?: {option_id: number, seq: number},
 *   choice?: {question_seq: number, option_id: number},
 * }} OptionEvent
 * @typedef {(data: {conversation_id: number, client_id: string, choice: {message_seq: number, option_id: number}}) => Promise<unknown>} SendChoice
 */

export class WidgetOptions {
  /**
   * @param {HTMLElement} log the transcript's role=log element
   * @param {SendChoice} send sends chat.send on the current connection
   */
  constructor(log, send) {
    this.log = log;
    this.send = send;
    /** @type {Map<string, number>} questions answered ("conversation:seq") → the option chosen, also before the question is on screen */
    this.chosen = new Map();
  }

  /**
   * An agent's message is on screen: when it is a question, its buttons
   * go under its text.
   * @param {OptionEvent} ev
   */
  question(ev) {
    if (!ev.options?.length) return;
    const msg = this.log.querySelector(`.msg-agent[data-seq="${ev.seq}"]`);
    if (!(msg instanceof HTMLElement) || msg.querySelector('.options')) return;
    const questionId = `parley-question-${ev.seq}`;
    msg.querySelector('.bubble')?.setAttribute('id', questionId);
    const status = el('p', { class: 'options-status', role: 'status', 'aria-live': 'polite' });
    const buttons = ev.options.map((o) => {
      const b = el('button', { class: 'option', type: 'button', 'data-option-id': o.id, 'aria-pressed': 'false' }, o.label);
      b.addEventListener('click', () => void this.choose(ev, o, group, status));
      return b;
    });
    const group = el('div', { class: 'options', role: 'group', 'aria-labelledby': questionId }, ...buttons, status);
    msg.append(group);
    const answered = ev.answered?.option_id ?? this.chosen.get(`${ev.conversation_id}:${ev.seq}`);
    if (answered !== undefined) mark(group, answered);
  }

  /**
   * The customer's answer arrived (live or on resume): its question shows
   * the choice.
   * @param {OptionEvent} ev
   */
  answered(ev) {
    if (!ev.choice) return;
    this.chosen.set(`${ev.conversation_id}:${ev.choice.question_seq}`, ev.choice.option_id);
    const group = this.log.querySelector(`.msg-agent[data-seq="${ev.choice.question_seq}"] .options`);
    if (group instanceof HTMLElement) mark(group, ev.choice.option_id);
  }

  /**
   * @param {OptionEvent} ev the question
   * @param {Option} option
   * @param {HTMLElement} group
   * @param {HTMLElement} status
   */
  async choose(ev, option, group, status) {
    if (group.dataset.chosen) return;
    const buttons = /** @type {HTMLButtonElement[]} */ ([...group.querySelectorAll('button.option')]);
    for (const b of buttons) b.disabled = true;
    group.dataset.sending = String(option.id);
    status.classList.remove('options-error');
    setText(status, 'Sending…');
    try {
      await this.send({
        conversation_id: ev.conversation_id,
        client_id: newClientId('o'),
        choice: { message_seq: ev.seq, option_id: option.id },
      });
      mark(group, option.id);
    } catch (err) {
      delete group.dataset.sending;
      status.classList.add('options-error');
      if (/** @type {{code?: string}} */ (err).code === 'conflict' && /already answered/.test(String(/** @type {Error} */ (err).message))) {
        setText(status, 'This question was already answered.');
        return;
      }
      if (group.dataset.chosen) return; // the answer arrived meanwhile
      for (const b of buttons) b.disabled = false;
      setText(status, `Your choice was not sent: ${errorText(err)}`);
    }
  }
}

/**
 * A question's buttons after its answer: all disabled, the chosen one
 * pressed and marked.
 * @param {HTMLElement} group
 * @param {number} optionId
 */
function mark(group, optionId) {
  group.dataset.chosen = String(optionId);
  delete group.dataset.sending;
  for (const b of /** @type {HTMLButtonElement[]} */ ([...group.querySelectorAll('button.option')])) {
    const on = b.dataset.optionId === String(optionId);
    b.disabled = true;
    b.classList.toggle('option-chosen', on);
    b.setAttribute('aria-pressed', String(on));
  }
  const status = group.querySelector('.options-status');
  if (status) setText(status, '');
}
