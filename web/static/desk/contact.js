// @ts-check
// The contact card beside the open chat (docs/protocol.md, "Contacts
// (staff)"): who the customer is — the contact the chat is paired with,
// its verified fields marked with the lock, who last edited it and when,
// its change log and its activities — and what the agent may do with it:
// edit it, unpair it, pair the chat with another contact found by
// search, or, while unpaired, make a new contact from the chat's data.
//
// The chat's Conversation says which contact it is paired with; its
// private events contact_paired and contact_unpaired tell every staff tab
// following the chat of a change, and the card follows them. The
// customer's page never learns of any of it.

import { byId, el, setText } from '../lib/dom.js';
import { errorText } from '../lib/util.js';
import { lockMark } from './identity.js';
import { contactForm } from './contact-edit.js';
import { PairSearch } from './contact-pair.js';
import { Activities, renderChanges, when } from './contact-activities.js';

/**
 * @typedef {import('./chat.js').ChatSession} ChatSession
 * @typedef {import('../lib/types.js').ChatEvent} ChatEvent
 * @typedef {import('../lib/types.js').Contact} Contact
 * @typedef {import('../lib/types.js').ContactRef} ContactRef
 * @typedef {import('../lib/types.js').ContactDetails} ContactDetails
 * @typedef {import('../lib/types.js').PairedConversation} PairedConversation
 * @typedef {import('../lib/types.js').ContactEvent} ContactEvent
 */

const PAIRED_BY = /** @type {Record<string, string>} */ ({
  external_id: 'Paired by the verified customer id',
  email: 'Paired by a verified e-mail',
  visitor: 'Paired by the same visitor',
  staff: 'Paired by staff',
});

const VERIFIED = 'Verified by the company’s site';

/**
 * The contact a chat is paired with, if any.
 * @param {import('../lib/types.js').Conversation} conv
 * @returns {ContactRef | null}
 */
export function contactOf(conv) {
  return /** @type {PairedConversation} */ (conv).contact ?? null;
}

/**
 * The chat paired with ref (null: unpaired), as its Conversation says.
 * @param {ChatSession} s
 * @param {ContactRef | null} ref
 */
function setContact(s, ref) {
  /** @type {PairedConversation} */
  const conv = { ...s.conv };
  if (ref) conv.contact = ref;
  else delete conv.contact;
  s.conv = conv;
}

export class ContactCard {
  /**
   * @param {object} deps
   * @param {import('../lib/parley.js').Connection} deps.conn
   * @param {import('./notices.js').Notices} deps.notices
   * @param {((id: number) => void) | null} [deps.openTicket] opens a ticket of the activities (the desk's tickets)
   */
  constructor({ conn, notices, openTicket = null }) {
    this.conn = conn;
    this.openTicket = openTicket;
    this.notices = notices;
    this.main = byId('desk-main');
    this.side = byId('customer-side');
    this.body = el('div', { class: 'contact-body' });
    byId('contact-panel').append(this.body);
    /** @type {ChatSession | null} the chat shown */
    this.session = null;
    /** @type {number | null} the contact shown (null: unpaired, or none) */
    this.contactId = null;
    /** the card failed to load: the next show tries again */
    this.failed = false;
    /** the newest load: older answers are dropped */
    this.generation = 0;
    /** @type {HTMLElement | null} how the chat was paired */
    this.pairedBy = null;
    /** @type {HTMLElement | null} the card's buttons */
    this.actions = null;
    /** @type {HTMLButtonElement | null} what opened the search */
    this.searchFrom = null;
    /** the next card drawn takes the focus (after a pairing) */
    this.focusNext = false;
    this.pair = new PairSearch({ conn, pick: (c) => this.pairWith(c), cancelled: () => this.closeSearch() });
  }

  /**
   * The desk shows a chat (or none): its card, loaded again only when the
   * chat or its contact changed.
   * @param {ChatSession | null} s
   */
  show(s) {
    this.side.hidden = s === null;
    this.main.classList.toggle('has-customer', s !== null);
    const ref = s ? contactOf(s.conv) : null;
    if (s === this.session && (ref?.id ?? null) === this.contactId && !this.failed) {
      if (ref && this.pairedBy) setText(this.pairedBy, PAIRED_BY[ref.paired_by] ?? '');
      return;
    }
    this.session = s;
    this.contactId = ref?.id ?? null;
    void this.load();
  }

  /**
   * An event shown in a chat (chats.onshown): a pairing changed.
   * @param {ChatSession} s
   * @param {ChatEvent} ev
   */
  event(s, ev) {
    if (ev.kind !== 'contact_paired' && ev.kind !== 'contact_unpaired') return;
    // A pairing told by an event was made by staff (chat.pair, or
    // contact.create with the chat).
    const c = /** @type {ContactEvent} */ (ev).contact;
    if (ev.kind === 'contact_paired' && c) setContact(s, { id: c.id, name: c.name, paired_by: 'staff' });
    else if (ev.kind === 'contact_unpaired') setContact(s, null);
    if (s === this.session) this.show(s);
  }

  /** Reads the card again (after a save). */
  reload() {
    this.failed = true;
    if (this.session) this.show(this.session);
  }

  async load() {
    const gen = ++this.generation;
    const s = this.session;
    this.failed = false;
    this.pairedBy = null;
    if (!s) {
      this.body.replaceChildren();
      return;
    }
    const ref = contactOf(s.conv);
    if (!ref) {
      this.renderUnpaired(s);
      this.focused();
      return;
    }
    this.body.replaceChildren(el('p', { class: 'contact-loading', role: 'status' }, `Loading ${ref.name}…`));
    try {
      const d = /** @type {ContactDetails} */ (await this.conn.request('contact.get', { contact_id: ref.id }));
      if (gen !== this.generation) return;
      this.render(s, ref, d);
      this.focused();
    } catch (err) {
      if (gen !== this.generation) return;
      this.failed = true;
      const retry = el('button', { type: 'button', class: 'button' }, 'Try again');
      retry.addEventListener('click', () => this.reload());
      this.body.replaceChildren(el('p', { class: 'contact-error', role: 'alert' }, `Could not load the contact ${ref.name}: ${errorText(err)}`), retry);
    }
  }

  /** After a pairing, the focus goes to the card's first button. */
  focused() {
    if (!this.focusNext) return;
    this.focusNext = false;
    /** @type {HTMLButtonElement | null} */ (this.body.querySelector('.contact-actions button'))?.focus();
  }

  /** @param {ChatSession} s */
  renderUnpaired(s) {
    const create = el('button', { type: 'button', class: 'button button-primary' }, 'New contact');
    const find = el('button', { type: 'button', class: 'button' }, 'Pair with a contact');
    create.addEventListener('click', () => {
      const customer = s.conv.customer;
      contactForm({
        conn: this.conn,
        contact: null,
        prefill: { name: customer.name, emails: customer.email ? [customer.email.toLowerCase()] : [] },
        conversationId: s.id,
        saved: (c) => this.paired(s, { id: c.id, name: c.name, paired_by: 'staff' }),
      });
    });
    find.addEventListener('click', () => this.openSearch(find));
    this.actions = el('div', { class: 'contact-actions' }, create, find);
    this.body.replaceChildren(el('p', { class: 'contact-unpaired' }, 'This chat is not paired with a contact.'), this.actions);
  }

  /**
   * @param {ChatSession} s
   * @param {ContactRef} ref
   * @param {ContactDetails} d
   */
  render(s, ref, d) {
    const c = d.contact;
    const v = c.verified ?? {};
    const verifiedEmails = new Set(v.emails ?? []);
    /** @type {[string, string, (string | Node | null)[]][]} label, field, content */
    const facts = [
      ['E-mails', 'emails', c.emails.length ? [el('ul', { class: 'contact-emails' }, ...c.emails.map((e) => el('li', {}, e, verifiedEmails.has(e) ? lockMark(VERIFIED) : null)))] : []],
      ['Phone', 'phone', c.phone ? [c.phone] : []],
      ['Company', 'company', c.company ? [c.company] : []],
      ['External id', 'external_id', c.external_id ? [c.external_id, v.external_id ? lockMark(VERIFIED) : null] : []],
      ['Notes', 'notes', c.notes ? [el('span', { class: 'contact-notes' }, c.notes)] : []],
    ];
    const list = el('dl', { class: 'contact-facts' });
    for (const [label, field, content] of facts) {
      list.append(el('dt', {}, label), el('dd', { 'data-field': field }, ...(content.length ? content : [el('span', { class: 'contact-none' }, '—')])));
    }
    this.pairedBy = el('p', { class: 'contact-paired-by' }, PAIRED_BY[ref.paired_by] ?? '');
    const edited = el(
      'p',
      { class: 'contact-edited' },
      `Last edited by ${c.updated_by?.name ?? 'the system'}, `,
      el('time', { datetime: c.updated_at }, when(c.updated_at)),
    );
    const edit = el('button', { type: 'button', class: 'button' }, 'Edit contact');
    const unpair = el('button', { type: 'button', class: 'button' }, 'Unpair');
    const find = el('button', { type: 'button', class: 'button' }, 'Pair with another contact');
    edit.addEventListener('click', () => {
      contactForm({ conn: this.conn, contact: c, saved: () => this.saved(s, c.id) });
    });
    unpair.addEventListener('click', () => void this.unpair(s, unpair));
    find.addEventListener('click', () => this.openSearch(find));
    this.actions = el('div', { class: 'contact-actions' }, edit, unpair, find);
    const changes = el(
      'details',
      { class: 'contact-log' },
      el('summary', {}, `Change log (${d.changes.length})`),
      d.changes.length ? renderChanges(d.changes) : el('p', { class: 'panel-empty' }, 'No changes recorded.'),
    );
    const activities = new Activities({ conn: this.conn, contactId: c.id, current: s.id, first: d, openTicket: this.openTicket });
    this.body.replaceChildren(
      el('h3', { class: 'contact-name', 'data-field': 'name' }, c.name, v.name ? lockMark(VERIFIED) : null),
      this.pairedBy,
      list,
      edited,
      this.actions,
      changes,
      activities.root,
    );
  }

  /**
   * The search for a contact to pair with, in place of the buttons.
   * @param {HTMLButtonElement} from the button that opened it (the focus goes back to it)
   */
  openSearch(from) {
    this.searchFrom = from;
    this.actions?.after(this.pair.root);
    if (this.actions) this.actions.hidden = true;
    this.pair.focus();
  }

  closeSearch() {
    this.pair.root.remove();
    if (this.actions) this.actions.hidden = false;
    this.searchFrom?.focus();
  }

  /** @param {Contact} c */
  async pairWith(c) {
    const s = this.session;
    if (!s) return;
    const answer = /** @type {{contact: ContactRef | null}} */ (await this.conn.request('chat.pair', { conversation_id: s.id, contact_id: c.id }));
    this.pair.root.remove();
    this.paired(s, answer.contact);
  }

  /**
   * @param {ChatSession} s
   * @param {HTMLButtonElement} button
   */
  async unpair(s, button) {
    button.disabled = true;
    try {
      await this.conn.request('chat.unpair', { conversation_id: s.id });
      this.paired(s, null);
    } catch (err) {
      button.disabled = false;
      this.notices.show(`Could not unpair the chat: ${errorText(err)}`);
    }
  }

  /**
   * The server paired the chat (or unpaired it: null); its event tells the
   * other tabs.
   * @param {ChatSession} s
   * @param {ContactRef | null} ref
   */
  paired(s, ref) {
    setContact(s, ref);
    if (s !== this.session) return;
    this.focusNext = true;
    this.show(s);
  }

  /**
   * A contact was saved: the card is read again if it still shows it.
   * @param {ChatSession} s
   * @param {number} id
   */
  saved(s, id) {
    if (s === this.session && this.contactId === id) this.reload();
  }
}
