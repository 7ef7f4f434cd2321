// @ts-check
// The customer's verified identity (docs/protocol.md, "Verified
// identity"): the token the company's backend signed, which the loader on
// the company's page hands over by postMessage ({parley: 'widget',
// identity}: never in the frame's URL). The widget sends it with
// chat.start as `identity`; the server checks it, and the signed name and
// e-mail replace what the form holds. So the form shows them filled in
// and read-only. A refusal (a signature that does not match or has
// expired, a verified-only queue without one) shows under the form.
//
// The payload is read here only to fill the form: the server trusts
// nothing of it without the signature.

import { el, setText } from '../lib/dom.js';
import { ProtocolError } from '../lib/parley.js';
import { sentence } from '../lib/util.js';

/**
 * @typedef {{id?: string, name?: string, email?: string}} Claims
 * @typedef {import('./form.js').Prechat} Prechat
 */

export class Identity {
  constructor() {
    /** the token as the page gave it; "" for none */
    this.token = '';
    /** @type {Claims | null} what the token says, unchecked */
    this.claims = null;
    /** told when the page hands over another token (or takes it away) */
    this.onchange = () => {};
    /** @type {Set<HTMLInputElement>} the form's fields it filled and locked */
    this.locked = new Set();
    this.note = el('p', { id: 'parley-identity-note', class: 'identity-note' });
  }

  /**
   * A message from the parent page (the loader): takes its identity.
   * @param {unknown} data
   */
  fromParent(data) {
    const d = /** @type {{parley?: unknown, identity?: unknown} | null} */ (data);
    if (!d || typeof d !== 'object' || d.parley !== 'widget' || typeof d.identity !== 'string') return;
    const token = d.identity.trim();
    if (token === this.token) return;
    this.token = token;
    this.claims = token ? decode(token) : null;
    this.onchange();
  }

  /**
   * chat.start's data: the form's values and, when the page gave one, the token.
   * @template {object} T
   * @param {T} values
   * @returns {T & {identity?: string}}
   */
  startData(values) {
    return this.token ? { ...values, identity: this.token } : values;
  }

  /**
   * Fills the form's name and e-mail with the signed ones and locks them
   * (read-only); unlocks what a token no longer signs.
   * @param {Prechat} prechat
   */
  prefill(prechat) {
    for (const field of this.locked) {
      field.readOnly = false;
      field.value = '';
      field.removeAttribute('aria-describedby');
    }
    this.locked.clear();
    this.note.remove();
    const c = this.claims;
    if (!c) return;
    /** @type {[HTMLInputElement, string | undefined][]} */
    const signed = [
      [prechat.fields.name, c.name],
      [prechat.fields.email, c.email],
    ];
    for (const [field, value] of signed) {
      if (!value) continue;
      prechat.clearError(field.name === 'name' ? 'name' : 'email');
      field.value = value;
      field.readOnly = true;
      field.setAttribute('aria-describedby', this.note.id);
      this.locked.add(field);
    }
    if (this.locked.size === 0) return;
    // The site says who the customer is: "Not you? Clear" does not apply.
    prechat.returning.hidden = true;
    setText(this.note, `You’re signed in${c.name ? ` as ${c.name}` : ''}: your details come from your account.`);
    prechat.intro.after(this.note);
  }

  /**
   * Shows a refusal of chat.start that is about the identity, under the
   * form, and says whether it was one.
   * @param {unknown} err
   * @param {Prechat} prechat
   */
  refused(err, prechat) {
    if (!(err instanceof ProtocolError) || !err.message.startsWith('identity:')) return false;
    const why = err.message.slice('identity:'.length).trim();
    prechat.formError(
      err.code === 'forbidden'
        ? sentence(why)
        : `We could not confirm that you are signed in: ${why.replace(/[.]$/, '')}. Reload the page and try again.`,
    );
    return true;
  }
}

/**
 * The claims of a token's payload (base64url JSON), or null when it is not one.
 * @param {string} token
 * @returns {Claims | null}
 */
function decode(token) {
  try {
    const b64 = token.split('.')[0].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (ch) => ch.charCodeAt(0));
    const v = JSON.parse(new TextDecoder().decode(bytes));
    if (!v || typeof v !== 'object') return null;
    const str = (/** @type {unknown} */ x) => (typeof x === 'string' ? x.trim() : '');
    return { id: str(v.id), name: str(v.name), email: str(v.email) };
  } catch {
    return null;
  }
}
