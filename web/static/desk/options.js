// @ts-check
// Questions with options in the desk (docs/protocol.md, "Questions with
// options"). The "Options" button in the compose area opens a small form
// under the reply box: the reply box holds the question, the form 2–6
// option inputs (add, remove) and "Send question", which sends chat.send
// with options. A question shows its options under its text; the one the
// customer chose is marked, from the question's answered (on loading) or
// live from the answer's choice (markChosen).

import { el, setText } from '../lib/dom.js';
import { errorText, newClientId } from '../lib/util.js';

/** Bounds of a question (the server's). */
const MIN_OPTIONS = 2;
const MAX_OPTIONS = 6;
const MAX_LABEL = 100;

/**
 * @typedef {{id: number, label: string}} Option
 * @typedef {import('../lib/types.js').ChatEvent & {
 *   options?: Option[],
 *   answered?: {option_id: number, seq: number},
 *   choice?: {question_seq: number, option_id: number},
 * }} OptionEvent
 *
 * @typedef {object} ComposeHost what the composer needs from the desk (chats.js)
 * @property {import('../lib/parley.js').Connection} conn
 * @property {HTMLTextAreaElement} compose the reply box: the question
 * @property {() => (import('./chat.js').ChatSession | null)} active the chat on screen
 * @property {() => void} sent the question went: clear the reply box and the chat's draft
 */

/**
 * A question's options under its text, the chosen one marked; null for
 * a message that is not a question.
 * @param {OptionEvent} ev
 * @returns {HTMLElement | null}
 */
export function renderOptions(ev) {
  if (!ev.options?.length) return null;
  const list = el(
    'ul',
    { class: 'msg-options', 'aria-label': 'Options offered' },
    ...ev.options.map((o) => el('li', { class: 'msg-option', 'data-option-id': o.id }, el('span', { class: 'msg-option-label' }, o.label))),
  );
  if (ev.answered) mark(list, ev.answered.option_id);
  return list;
}

/**
 * The customer's answer is shown: its question, if on screen in events,
 * marks the chosen option.
 * @param {HTMLElement} events the chat's events
 * @param {OptionEvent} ev
 */
export function markChosen(events, ev) {
  if (!ev.choice) return;
  const list = events.querySelector(`.msg[data-seq="${ev.choice.question_seq}"] .msg-options`);
  if (list instanceof HTMLElement) mark(list, ev.choice.option_id);
}

/**
 * @param {HTMLElement} list
 * @param {number} optionId
 */
function mark(list, optionId) {
  list.dataset.chosen = String(optionId);
  for (const li of /** @type {HTMLElement[]} */ ([...list.querySelectorAll('.msg-option')])) {
    const on = li.dataset.optionId === String(optionId);
    li.classList.toggle('msg-option-chosen', on);
    li.querySelector('.msg-option-mark')?.remove();
    if (on) li.append(el('span', { class: 'msg-option-mark' }, ' — chosen by the customer'));
  }
}

/** The "Options" button and its form in the compose area. */
export class OptionsComposer {
  /** @param {ComposeHost} host */
  constructor(host) {
    this.host = host;
    /** @type {{key: string, id: string} | null} the question being sent: the same content goes again with the same client_id */
    this.pending = null;
    this.sending = false;

    this.toggle = el('button', { id: 'options-toggle', class: 'button options-toggle', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'options-form' }, 'Options');
    this.list = el('ol', { class: 'options-inputs' });
    this.addButton = el('button', { class: 'button button-quiet', type: 'button' }, 'Add option');
    this.sendButton = el('button', { id: 'options-send', class: 'button button-primary', type: 'button' }, 'Send question');
    this.cancelButton = el('button', { class: 'button button-quiet', type: 'button' }, 'Cancel');
    this.error = el('p', { id: 'options-error', class: 'options-error', role: 'alert', hidden: true });
    this.panel = el(
      'fieldset',
      { id: 'options-form', class: 'options-form', hidden: true },
      el('legend', {}, 'Options for the question in the reply box (2–6)'),
      this.list,
      this.error,
      el('div', { class: 'options-bar' }, this.addButton, this.cancelButton, this.sendButton),
    );
    const form = host.compose.form;
    const bar = form?.querySelector('.compose-bar');
    if (!form || !bar) throw new Error('desk: the compose area has no form or bar');
    bar.insertBefore(this.toggle, bar.querySelector('#send'));
    form.insertBefore(this.panel, bar);

    this.toggle.addEventListener('click', () => (this.panel.hidden ? this.open() : this.close()));
    this.addButton.addEventListener('click', () => {
      this.addInput('');
      this.inputs().at(-1)?.focus();
    });
    this.cancelButton.addEventListener('click', () => {
      this.close();
      host.compose.focus();
    });
    this.sendButton.addEventListener('click', () => void this.send());
    // While the form is open, Enter in the reply box and the compose
    // area's Send send the question (before chats.js's own listeners).
    host.compose.addEventListener(
      'keydown',
      (e) => {
        if (this.panel.hidden || e.key !== 'Enter' || e.shiftKey || e.isComposing) return;
        e.preventDefault();
        e.stopImmediatePropagation();
        void this.send();
      },
      { capture: true },
    );
    form.addEventListener(
      'submit',
      (e) => {
        if (this.panel.hidden) return;
        e.preventDefault();
        e.stopImmediatePropagation();
        void this.send();
      },
      { capture: true },
    );
    this.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && e.target instanceof HTMLInputElement) {
        e.preventDefault();
        void this.send();
      }
    });
  }

  open() {
    if (!this.inputs().length) {
      this.addInput('');
      this.addInput('');
    }
    this.panel.hidden = false;
    this.toggle.setAttribute('aria-expanded', 'true');
    this.inputs()[0]?.focus();
  }

  close() {
    this.panel.hidden = true;
    this.toggle.setAttribute('aria-expanded', 'false');
    this.list.replaceChildren();
    this.showError('');
    this.pending = null;
  }

  /** @returns {HTMLInputElement[]} */
  inputs() {
    return [...this.list.querySelectorAll('input')];
  }

  /** @param {string} value */
  addInput(value) {
    if (this.inputs().length >= MAX_OPTIONS) return;
    const n = this.inputs().length + 1;
    const input = el('input', { type: 'text', class: 'options-input', id: `option-input-${newClientId('i')}`, maxlength: MAX_LABEL, autocomplete: 'off', value });
    const label = el('label', { for: input.id, class: 'options-label' }, `Option ${n}`);
    const remove = el('button', { class: 'button button-quiet options-remove', type: 'button', 'aria-label': `Remove option ${n}` }, 'Remove');
    const li = el('li', { class: 'options-row' }, label, input, remove);
    remove.addEventListener('click', () => {
      li.remove();
      this.renumber();
      this.inputs().at(-1)?.focus();
    });
    this.list.append(li);
    this.renumber();
  }

  /** Labels follow the order; remove is off at the minimum, add at the maximum. */
  renumber() {
    const rows = [...this.list.querySelectorAll('.options-row')];
    rows.forEach((row, i) => {
      const label = row.querySelector('label');
      if (label) setText(label, `Option ${i + 1}`);
      const remove = /** @type {HTMLButtonElement | null} */ (row.querySelector('.options-remove'));
      if (remove) {
        remove.setAttribute('aria-label', `Remove option ${i + 1}`);
        remove.disabled = rows.length <= MIN_OPTIONS;
      }
    });
    this.addButton.disabled = rows.length >= MAX_OPTIONS;
  }

  /** @param {string} message '' hides it */
  showError(message) {
    setText(this.error, message);
    this.error.hidden = message === '';
  }

  async send() {
    const s = this.host.active();
    if (!s || s.closed || this.sending) return;
    const text = this.host.compose.value.trim();
    const labels = this.inputs().map((i) => i.value.trim());
    const empty = labels.findIndex((l) => l === '');
    const seen = labels.map((l) => l.toLowerCase());
    const twice = seen.findIndex((l, i) => seen.indexOf(l) !== i);
    if (!text) {
      this.showError('Write the question in the reply box.');
      this.host.compose.focus();
      return;
    }
    if (s.privateNote) {
      this.showError('A question cannot be private: turn private mode off first.');
      return;
    }
    if (empty >= 0) {
      this.showError(`Option ${empty + 1} is empty.`);
      this.inputs()[empty]?.focus();
      return;
    }
    if (twice >= 0) {
      this.showError(`Option ${twice + 1} is the same as an earlier one.`);
      this.inputs()[twice]?.focus();
      return;
    }
    const key = JSON.stringify([s.id, text, labels]);
    if (this.pending?.key !== key) this.pending = { key, id: newClientId('q') };
    this.sending = true;
    this.sendButton.disabled = true;
    this.showError('');
    try {
      await this.host.conn.request('chat.send', { conversation_id: s.id, client_id: this.pending.id, text, options: labels });
      // The question shows when its event arrives.
      if (this.host.compose.value.trim() === text) this.host.sent();
      this.close();
      this.host.compose.focus();
    } catch (err) {
      this.showError(`The question was not sent: ${errorText(err)}`);
    } finally {
      this.sending = false;
      this.sendButton.disabled = false;
    }
  }
}
