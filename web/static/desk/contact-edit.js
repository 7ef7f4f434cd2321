// @ts-check
// The contact form of the desk's contact card: "Edit contact"
// (contact.update, only the fields changed) and "New contact"
// (contact.create with the chat, filled from the chat's customer). A
// refusal of the server names its field first ("emails: …",
// docs/protocol.md, contact.create): the message shows at that field,
// which gets the focus; any other shows under the form.

import { el, setText } from '../lib/dom.js';
import { formDialog } from '../lib/form-dialog.js';
import { lockMark } from './identity.js';

/**
 * @typedef {import('../lib/types.js').Contact} Contact
 * @typedef {'name' | 'emails' | 'phone' | 'company' | 'external_id' | 'notes'} FieldName
 * @typedef {{name: string, emails: string[], phone: string, company: string, external_id: string, notes: string}} Values
 */

/** @type {[FieldName, string, string][]} the fields in order: name, label, hint */
const FIELDS = [
  ['name', 'Name', ''],
  ['emails', 'E-mails', 'One address a line; the first gets the tickets’ e-mails.'],
  ['phone', 'Phone', ''],
  ['company', 'Company', ''],
  ['external_id', 'External id', 'The person’s id in the company’s systems.'],
  ['notes', 'Notes', ''],
];

/** The labels of the fields, by the wire's names (also the change log's). */
export const FIELD_LABEL = /** @type {Record<string, string>} */ (Object.fromEntries(FIELDS.map(([name, label]) => [name, label])));

let made = 0;

/**
 * Opens the form. With a contact it edits it; without, it makes one from
 * prefill and pairs it with the chat.
 * @param {object} o
 * @param {import('../lib/parley.js').Connection} o.conn
 * @param {Contact | null} o.contact the contact to edit; null: a new one
 * @param {Partial<Values>} [o.prefill] a new contact's first values (the chat's customer)
 * @param {number} [o.conversationId] a new contact's chat, paired with it
 * @param {(contact: Contact) => void} o.saved after the server answered
 */
export function contactForm({ conn, contact, prefill = {}, conversationId, saved }) {
  const n = ++made;
  /** @type {Values} */
  const before = contact
    ? { name: contact.name, emails: contact.emails, phone: contact.phone, company: contact.company, external_id: contact.external_id, notes: contact.notes }
    : { name: '', emails: [], phone: '', company: '', external_id: '', notes: '', ...prefill };
  /** @type {Map<FieldName, {input: HTMLInputElement | HTMLTextAreaElement, error: HTMLElement}>} */
  const controls = new Map();
  const fields = FIELDS.map(([name, label, hint]) => {
    const id = `contact-${n}-${name}`;
    const multi = name === 'emails' || name === 'notes';
    const input = multi
      ? el('textarea', { id, name, class: 'text-input', rows: name === 'notes' ? 4 : 2, autocomplete: 'off' })
      : el('input', { id, name, class: 'text-input', type: name === 'phone' ? 'tel' : 'text', autocomplete: 'off' });
    input.value = name === 'emails' ? before.emails.join('\n') : before[name];
    const error = el('p', { id: `${id}-error`, class: 'contact-field-error', hidden: true });
    const hintNode = hint ? el('p', { id: `${id}-hint`, class: 'contact-field-hint' }, hint) : null;
    input.setAttribute('aria-describedby', [hintNode ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' '));
    input.addEventListener('input', () => clear(name));
    controls.set(name, { input, error });
    return el('div', { class: 'field contact-field' }, el('label', { for: id }, label, verifiedMark(contact, name)), input, hintNode, error);
  });
  const d = formDialog({
    title: contact ? `Edit ${contact.name}` : 'New contact',
    text: contact
      ? 'A verified field you change loses its lock: it no longer is what the company’s site signed.'
      : 'The chat is paired with the new contact.',
    confirm: contact ? 'Save' : 'Create contact',
    fields,
    className: 'contact-dialog',
    shownElsewhere: (err) => atField(err),
  });

  d.onSubmit = async () => {
    const now = values();
    if (!now.name) throw new Error('name: the contact’s name is required.');
    if (contact) {
      /** @type {Record<string, unknown>} */
      const changes = {};
      for (const [name] of FIELDS) {
        if (JSON.stringify(now[name]) !== JSON.stringify(before[name])) changes[name] = now[name];
      }
      if (Object.keys(changes).length === 0) return; // nothing changed: nothing to record
      saved(/** @type {Contact} */ (await conn.request('contact.update', { contact_id: contact.id, ...changes })));
      return;
    }
    /** @type {Record<string, unknown>} */
    const data = { name: now.name, emails: now.emails };
    for (const name of /** @type {const} */ (['phone', 'company', 'external_id', 'notes'])) if (now[name]) data[name] = now[name];
    if (conversationId !== undefined) data.conversation_id = conversationId;
    saved(/** @type {Contact} */ (await conn.request('contact.create', data)));
  };
  d.show(controls.get('name')?.input);
  return d;

  /** @returns {Values} */
  function values() {
    /** @param {FieldName} name */
    const v = (name) => controls.get(name)?.input.value.trim() ?? '';
    return {
      name: v('name'),
      emails: v('emails')
        .split(/[\s,;]+/)
        .filter(Boolean)
        .map((e) => e.toLowerCase()),
      phone: v('phone'),
      company: v('company'),
      external_id: v('external_id'),
      notes: v('notes'),
    };
  }

  /**
   * Shows an error that names its field at that field.
   * @param {unknown} err
   */
  function atField(err) {
    const m = /^([a-z_]+): (.*)$/s.exec(err instanceof Error ? err.message : '');
    const c = m ? controls.get(/** @type {FieldName} */ (m[1])) : undefined;
    if (!m || !c) return false;
    for (const name of controls.keys()) clear(name);
    const text = m[2].trim();
    setText(c.error, text.charAt(0).toUpperCase() + text.slice(1));
    c.error.hidden = false;
    c.input.setAttribute('aria-invalid', 'true');
    c.input.focus();
    return true;
  }

  /** @param {FieldName} name */
  function clear(name) {
    const c = controls.get(name);
    if (!c) return;
    c.error.hidden = true;
    c.input.removeAttribute('aria-invalid');
  }
}

/**
 * The lock beside a field's label while what it holds is verified.
 * @param {Contact | null} c
 * @param {FieldName} name
 */
function verifiedMark(c, name) {
  if (!c) return null;
  const v = c.verified ?? {};
  const on = name === 'name' ? v.name === true : name === 'external_id' ? v.external_id === true : name === 'emails' ? (v.emails ?? []).length > 0 : false;
  return on ? lockMark('Verified by the company’s site') : null;
}
