// @ts-check
// The widget's offline panel: what the customer sees when no chat can
// start or their chat could not go on (the queue is closed or disabled,
// full, or the wait was too long): the queue's message and, when the
// queue has one, the offline form (name, e-mail, message), sent with
// POST /api/widget/{key}/offline (docs/protocol.md, "The widget (HTTP)").
// Errors show at their field, the server's bad_request ("email: …")
// included; once sent, the form gives way to a thank-you naming the
// address the reply will go to.

import { el, setText } from '../lib/dom.js';
import { sentence } from '../lib/util.js';

/**
 * @typedef {object} OfflineShow
 * @property {string} message what the queue says (offline_message or unavailable_message)
 * @property {boolean} form whether to offer the offline form (the queue's offline_form)
 * @property {{name?: string, email?: string}=} prefill what the customer already told us
 *
 * @typedef {'name' | 'email' | 'message'} OfflineField
 * @typedef {Record<OfflineField, string>} OfflineValues
 * @typedef {(values: OfflineValues) => Promise<void>} OfflineSend sends the form; throws OfflineError
 */

/** The longest message, in characters (the server's limit). */
export const MAX_MESSAGE = 4000;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const SERVER_FIELD_RE = /^(name|email|message):\s*(.+)$/s;
const FIELDS = /** @type {OfflineField[]} */ (['name', 'email', 'message']);

/** Why the offline form was not taken: the server's code and message. */
export class OfflineError extends Error {
  /**
   * @param {string} code bad_request, rate_limited, forbidden… or "network"
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/**
 * POST /api/widget/{key}/offline with the visitor token.
 * @param {string} key the queue's key
 * @param {string} token the visitor token
 * @param {OfflineValues} values
 * @returns {Promise<void>}
 */
export async function sendOffline(key, token, values) {
  /** @type {Response} */
  let res;
  try {
    res = await fetch(`/api/widget/${encodeURIComponent(key)}/offline`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify(values),
    });
  } catch {
    throw new OfflineError('network', 'The message could not be sent: check your connection and try again.');
  }
  if (res.ok) return;
  const body = await res.json().catch(() => null);
  throw new OfflineError(body?.error?.code ?? 'internal', body?.error?.message ?? `The server answered ${res.status}.`);
}

/**
 * The visitor token the widget keeps for key (widget.js's TOKEN_KEY).
 * @param {string} key
 */
function storedToken(key) {
  try {
    return localStorage.getItem(`parley.visitor.${key}`) ?? '';
  } catch {
    return '';
  }
}

export class OfflinePanel {
  /**
   * @param {HTMLElement} root the panel's element, hidden until shown
   * @param {OfflineSend=} send how the form is sent; by default to this
   *   widget's queue (the page's last path segment) with the widget's token
   */
  constructor(root, send) {
    this.root = root;
    const key = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() ?? '');
    /** @type {OfflineSend} */
    this.send = send ?? ((values) => sendOffline(key, storedToken(key), values));
    this.text = el('p', { class: 'offline-message', id: 'parley-offline-message', role: 'status' });
    /** @type {Record<OfflineField, HTMLInputElement | HTMLTextAreaElement>} */
    this.fields = {
      name: el('input', { id: 'parley-offline-name', name: 'name', type: 'text', autocomplete: 'name', maxlength: 100 }),
      email: el('input', {
        id: 'parley-offline-email',
        name: 'email',
        type: 'email',
        autocomplete: 'email',
        maxlength: 254,
        spellcheck: 'false',
        required: true,
      }),
      message: el('textarea', { id: 'parley-offline-text', name: 'message', rows: 5, required: true }),
    };
    this.count = el('span', { class: 'offline-count', id: 'parley-offline-count', 'aria-live': 'polite' });
    this.error = el('p', { class: 'form-error', id: 'parley-offline-error', role: 'alert', hidden: true });
    this.button = el('button', { class: 'button button-primary button-block', type: 'submit' }, 'Send');
    this.form = el(
      'form',
      { class: 'offline-form', id: 'parley-offline-form', novalidate: true, 'aria-label': 'Leave us a message' },
      field(this.fields.name, 'Name', true),
      field(this.fields.email, 'E-mail', false),
      field(this.fields.message, 'Message', false, this.count),
      this.error,
      this.button,
    );
    this.thanks = el('p', { class: 'offline-thanks', id: 'parley-offline-thanks', role: 'status', hidden: true });
    // The form is in the page only while it is shown: the pre-chat form's
    // fields are then the only ones of their names.
    this.root.replaceChildren(this.text);
    for (const name of FIELDS) this.fields[name].addEventListener('input', () => this.clearError(name));
    this.fields.message.addEventListener('input', () => this.counted());
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submit();
    });
  }

  /**
   * Shows the panel with what.message and, when what.form, the form
   * (emptied of errors, filled with what the customer told us before).
   * A form already sent stays thanked.
   * @param {OfflineShow} what
   */
  show(what) {
    setText(this.text, what.message);
    const sent = !this.thanks.hidden;
    this.root.replaceChildren(this.text, ...(what.form && !sent ? [this.form] : []), this.thanks);
    if (what.form && !sent) {
      this.clearErrors();
      for (const name of /** @type {('name' | 'email')[]} */ (['name', 'email'])) {
        const v = what.prefill?.[name];
        if (v && !this.fields[name].value) this.fields[name].value = v;
      }
      this.counted();
    }
    this.root.hidden = false;
  }

  hide() {
    this.root.hidden = true;
    this.root.replaceChildren(this.text);
  }

  /** @returns {OfflineValues} what was typed, trimmed */
  values() {
    return {
      name: this.fields.name.value.trim(),
      email: this.fields.email.value.trim(),
      message: this.fields.message.value.trim(),
    };
  }

  async submit() {
    if (this.button.disabled) return;
    const v = this.values();
    if (!this.check(v)) return;
    this.busy(true);
    try {
      await this.send(v);
    } catch (err) {
      this.busy(false);
      this.failed(err);
      return;
    }
    this.form.remove();
    setText(this.thanks, `Thanks — we got your message and will reply to ${v.email}.`);
    this.thanks.hidden = false;
  }

  /**
   * Checks the values, shows what is wrong at each field and focuses the
   * first. True when all is well.
   * @param {OfflineValues} v
   */
  check(v) {
    this.clearErrors();
    /** @type {[OfflineField, string][]} */
    const wrong = [];
    if (!v.email) wrong.push(['email', 'Please enter your e-mail address, so that we can reply.']);
    else if (!EMAIL_RE.test(v.email)) wrong.push(['email', 'Please enter a valid e-mail address.']);
    if (!v.message) wrong.push(['message', 'Please write your message.']);
    else if ([...v.message].length > MAX_MESSAGE) {
      wrong.push(['message', `Please shorten your message to ${MAX_MESSAGE} characters.`]);
    }
    for (const [name, message] of wrong) this.fieldError(name, message);
    if (wrong.length) this.fields[wrong[0][0]].focus();
    return wrong.length === 0;
  }

  /**
   * Shows why the server did not take the form: a bad_request at its
   * field, anything else under the form.
   * @param {unknown} err
   */
  failed(err) {
    const oe = err instanceof OfflineError ? err : new OfflineError('internal', String(err));
    const m = oe.code === 'bad_request' ? SERVER_FIELD_RE.exec(oe.message) : null;
    if (m) {
      const name = /** @type {OfflineField} */ (m[1]);
      this.fieldError(name, sentence(m[2]));
      this.fields[name].focus();
      return;
    }
    setText(this.error, oe.code === 'network' || oe.code === 'rate_limited' ? oe.message : `The message could not be sent: ${oe.message}`);
    this.error.hidden = false;
  }

  /** @param {boolean} busy */
  busy(busy) {
    this.button.disabled = busy;
    setText(this.button, busy ? 'Sending…' : 'Send');
  }

  /** Shows how many characters are left once few are. */
  counted() {
    const left = MAX_MESSAGE - [...this.fields.message.value].length;
    setText(this.count, left < 200 ? `${left} characters left` : '');
    this.count.hidden = left >= 200;
  }

  /**
   * @param {OfflineField} name
   * @param {string} message
   */
  fieldError(name, message) {
    const f = this.fields[name];
    const id = `${f.id}-error`;
    let node = document.getElementById(id);
    if (!node) {
      node = el('p', { id, class: 'field-error', role: 'alert' });
      f.after(node);
    }
    setText(node, message);
    f.setAttribute('aria-invalid', 'true');
    f.setAttribute('aria-describedby', id);
  }

  /** @param {OfflineField} name */
  clearError(name) {
    const f = this.fields[name];
    document.getElementById(`${f.id}-error`)?.remove();
    f.removeAttribute('aria-invalid');
    f.removeAttribute('aria-describedby');
  }

  clearErrors() {
    for (const name of FIELDS) this.clearError(name);
    this.error.hidden = true;
  }
}

/**
 * A labelled field.
 * @param {HTMLInputElement | HTMLTextAreaElement} control
 * @param {string} text
 * @param {boolean} optional
 * @param {HTMLElement=} extra shown under the label's row (the character count)
 */
function field(control, text, optional, extra) {
  return el(
    'div',
    { class: 'field' },
    el('label', { for: control.id }, text, optional ? el('span', { class: 'optional' }, ' (optional)') : ''),
    control,
    extra,
  );
}
