// @ts-check
// The widget's pre-chat form (form#parley-prechat): its fields as the
// queue's settings say, checks before sending, and errors shown at their
// field, the server's bad_request ("email: a valid e-mail address is
// required") included.
//
// A customer's name, e-mail and extra field are remembered for their next
// chat: kept in the widget frame's localStorage (the Parley origin's, so
// the company's page cannot read them) under parley.details.{queue key},
// for DETAILS_DAYS days after the chat they were given for, and filled in
// when the form shows again. "Not you? Clear" forgets them at once.

import { byId, el, setText } from '../lib/dom.js';
import { ProtocolError } from '../lib/parley.js';
import { sentence } from '../lib/util.js';

/**
 * @typedef {'name' | 'email' | 'extra'} FieldName
 * @typedef {{email: 'required' | 'optional', extra: {label: string, mode: 'hidden' | 'optional' | 'required'}}} Fields
 * @typedef {Record<FieldName, string>} Values
 */

const NAMES = /** @type {FieldName[]} */ (['name', 'email', 'extra']);
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const SERVER_FIELD_RE = /^(name|email|extra):\s*(.+)$/s;
/** How long a customer's details are remembered after the chat they were given for. */
export const DETAILS_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

export class Prechat {
  /**
   * @param {import('../lib/util.js').Store} store where the details are remembered (localStorage)
   * @param {string} storeKey
   */
  constructor(store, storeKey) {
    this.store = store;
    this.storeKey = storeKey;
    /** @type {() => void} told when "Not you?" forgets the details: the page forgets the visitor too */
    this.onforget = () => {};
    this.returning = byId('parley-returning');
    this.returningText = byId('parley-returning-text');
    byId('parley-forget').addEventListener('click', () => this.forget());
    this.form = /** @type {HTMLFormElement} */ (byId('parley-prechat'));
    this.intro = byId('parley-intro');
    this.button = /** @type {HTMLButtonElement} */ (byId('parley-start'));
    this.error = byId('parley-form-error');
    this.extraField = byId('parley-extra-field');
    this.extraLabel = 'this field';
    /** @type {Record<FieldName, HTMLInputElement>} */
    this.fields = {
      name: /** @type {HTMLInputElement} */ (byId('parley-name')),
      email: /** @type {HTMLInputElement} */ (byId('parley-email')),
      extra: /** @type {HTMLInputElement} */ (byId('parley-extra')),
    };
    for (const name of NAMES) this.fields[name].addEventListener('input', () => this.clearError(name));
  }

  get hidden() {
    return this.form.hidden;
  }

  set hidden(v) {
    this.form.hidden = v;
  }

  /**
   * Sets the form up as the queue's settings say.
   * @param {string} queueName
   * @param {Fields | undefined} f
   */
  configure(queueName, f) {
    setText(this.intro, `Hi there! Tell us who you are and we’ll connect you with ${queueName || 'us'}.`);
    const emailRequired = f?.email === 'required';
    this.fields.email.required = emailRequired;
    label(byId('parley-email-label'), 'E-mail', !emailRequired);

    const extra = f?.extra ?? { label: '', mode: 'hidden' };
    this.extraField.hidden = extra.mode === 'hidden';
    this.fields.extra.required = extra.mode === 'required';
    this.extraLabel = extra.label || 'More about you';
    label(byId('parley-extra-label'), this.extraLabel, extra.mode !== 'required');
    if (/phone|mobile|tel/i.test(extra.label)) {
      this.fields.extra.type = 'tel';
      this.fields.extra.autocomplete = 'tel';
    }
  }

  /**
   * Remembers the details a chat was started with (see the top of the file).
   * @param {Values} v
   */
  remember(v) {
    this.store.set(this.storeKey, JSON.stringify({ ...v, saved: Date.now() }));
  }

  /** @returns {Values | null} the remembered details, while they are kept */
  remembered() {
    try {
      const v = JSON.parse(this.store.get(this.storeKey) ?? 'null');
      if (!v || typeof v.name !== 'string' || !v.name) return null;
      if (!(Date.now() - Number(v.saved) < DETAILS_DAYS * DAY_MS)) {
        this.store.remove(this.storeKey);
        return null;
      }
      const str = (/** @type {unknown} */ x) => (typeof x === 'string' ? x : '');
      return { name: v.name, email: str(v.email), extra: str(v.extra) };
    } catch {
      return null;
    }
  }

  /** Fills the empty form with the remembered details, and offers to clear them. */
  prefill() {
    const v = this.remembered();
    this.returning.hidden = v === null;
    if (!v) return;
    for (const name of NAMES) if (!this.fields[name].value) this.fields[name].value = v[name];
    setText(this.returningText, `Welcome back, ${v.name}.`);
  }

  /**
   * "Not you?": the details are forgotten and the form emptied, and the page
   * is told so that it forgets the visitor as well (onforget): the next chat
   * is a new visitor's, with none of the earlier chats in its history.
   */
  forget() {
    this.store.remove(this.storeKey);
    this.onforget();
    for (const name of NAMES) this.fields[name].value = '';
    this.clearErrors();
    this.returning.hidden = true;
    this.fields.name.focus();
  }

  /** @returns {Values} what was typed, trimmed; chat.start's data */
  values() {
    return {
      name: this.fields.name.value.trim(),
      email: this.fields.email.value.trim(),
      extra: this.extraField.hidden ? '' : this.fields.extra.value.trim(),
    };
  }

  /**
   * Checks the values, shows what is wrong at each field and focuses the
   * first. True when all is well.
   * @param {Values} v
   */
  check(v) {
    this.clearErrors();
    /** @type {[FieldName, string][]} */
    const wrong = [];
    if (!v.name) wrong.push(['name', 'Please enter your name.']);
    if (!v.email && this.fields.email.required) wrong.push(['email', 'Please enter your e-mail address.']);
    else if (v.email && !EMAIL_RE.test(v.email)) wrong.push(['email', 'Please enter a valid e-mail address.']);
    if (!v.extra && !this.extraField.hidden && this.fields.extra.required) {
      wrong.push(['extra', `Please fill in ${this.extraLabel}.`]);
    }
    for (const [name, message] of wrong) this.fieldError(name, message);
    if (wrong.length) this.fields[wrong[0][0]].focus();
    return wrong.length === 0;
  }

  /**
   * Shows why chat.start failed: a bad_request at its field, anything else
   * under the form.
   * @param {unknown} err
   */
  failed(err) {
    const pe = err instanceof ProtocolError ? err : new ProtocolError('internal', String(err));
    const m = pe.code === 'bad_request' ? SERVER_FIELD_RE.exec(pe.message) : null;
    if (m) {
      const name = /** @type {FieldName} */ (m[1]);
      this.fieldError(name, sentence(m[2]));
      this.fields[name].focus();
    } else if (pe.code === 'disconnected' || pe.code === 'timeout') {
      this.formError('The connection dropped. Please try again in a moment.');
    } else {
      this.formError(`The chat could not start: ${pe.message}`);
    }
  }

  /** @param {string} message */
  formError(message) {
    setText(this.error, message);
    this.error.hidden = false;
  }

  /** @param {boolean} busy */
  busy(busy) {
    this.button.disabled = busy;
    setText(this.button, busy ? 'Starting…' : 'Start chat');
  }

  focus() {
    const invalid = NAMES.find((n) => this.fields[n].getAttribute('aria-invalid') === 'true');
    this.fields[invalid ?? 'name'].focus();
  }

  /**
   * @param {FieldName} name
   * @param {string} message
   */
  fieldError(name, message) {
    const field = this.fields[name];
    const id = `${field.id}-error`;
    let node = document.getElementById(id);
    if (!node) {
      node = el('p', { id, class: 'field-error', role: 'alert' });
      field.after(node);
    }
    setText(node, message);
    field.setAttribute('aria-invalid', 'true');
    field.setAttribute('aria-describedby', id);
  }

  /** @param {FieldName} name */
  clearError(name) {
    const field = this.fields[name];
    document.getElementById(`${field.id}-error`)?.remove();
    field.removeAttribute('aria-invalid');
    field.removeAttribute('aria-describedby');
  }

  clearErrors() {
    for (const name of NAMES) this.clearError(name);
    this.error.hidden = true;
  }
}

/**
 * @param {HTMLElement} node
 * @param {string} text
 * @param {boolean} optional
 */
function label(node, text, optional) {
  node.replaceChildren(text, optional ? el('span', { class: 'optional' }, ' (optional)') : '');
}
