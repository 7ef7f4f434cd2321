// @ts-check
// "Pair with a contact" in the desk's contact card: a search box
// (contact.search as the agent types, from two characters) and the
// contacts found, each a button that pairs the chat with it (chat.pair).
// Only the newest search's answer is shown.

import { el, setText } from '../lib/dom.js';
import { errorText } from '../lib/util.js';

/**
 * @typedef {import('../lib/types.js').Contact} Contact
 */

const TYPING_PAUSE_MS = 250;
const MIN_QUERY = 2;

let made = 0;

export class PairSearch {
  /**
   * @param {object} o
   * @param {import('../lib/parley.js').Connection} o.conn
   * @param {(contact: Contact) => Promise<void>} o.pick pairs the chat with it; a throw is shown here
   * @param {() => void} o.cancelled the agent gave up
   */
  constructor({ conn, pick, cancelled }) {
    this.conn = conn;
    this.pick = pick;
    const id = `contact-find-${++made}`;
    this.input = el('input', { id, type: 'search', class: 'text-input', autocomplete: 'off', placeholder: 'Name, e-mail, phone or company' });
    this.summary = el('p', { class: 'contact-find-summary', role: 'status', 'aria-live': 'polite' });
    this.list = el('ul', { class: 'contact-find-results', 'aria-label': 'Contacts found' });
    const cancel = el('button', { type: 'button', class: 'button button-quiet' }, 'Cancel');
    this.root = el(
      'div',
      { class: 'contact-find', role: 'search', 'aria-label': 'Find a contact to pair' },
      el('label', { for: id, class: 'contact-find-label' }, 'Find a contact'),
      this.input,
      this.summary,
      this.list,
      el('div', { class: 'contact-actions' }, cancel),
    );
    /** the newest search asked: older answers are dropped */
    this.asked = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.input.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.search(), TYPING_PAUSE_MS);
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        cancelled();
      }
    });
    cancel.addEventListener('click', () => cancelled());
  }

  /** Empty, with the focus in the box. */
  focus() {
    this.input.value = '';
    this.list.replaceChildren();
    setText(this.summary, `Type at least ${MIN_QUERY} characters.`);
    this.input.focus();
  }

  async search() {
    const query = this.input.value.trim();
    const asked = ++this.asked;
    if ([...query].length < MIN_QUERY) {
      this.list.replaceChildren();
      setText(this.summary, `Type at least ${MIN_QUERY} characters.`);
      return;
    }
    setText(this.summary, 'Searching…');
    try {
      const { contacts } = /** @type {{contacts: Contact[]}} */ (await this.conn.request('contact.search', { query, limit: 10 }));
      if (asked !== this.asked) return;
      this.list.replaceChildren(...contacts.map((c) => this.item(c)));
      setText(this.summary, contacts.length === 0 ? `No contact matches “${query}”.` : `${contacts.length} found.`);
    } catch (err) {
      if (asked === this.asked) setText(this.summary, `Could not search: ${errorText(err)}`);
    }
  }

  /** @param {Contact} c */
  item(c) {
    const details = [c.emails[0] ?? '', c.company, c.phone].filter(Boolean).join(' · ');
    const button = el(
      'button',
      { type: 'button', class: 'contact-find-result', 'data-contact': c.id, 'aria-label': `Pair with ${c.name}${details ? `, ${details}` : ''}` },
      el('span', { class: 'contact-find-name' }, c.name),
      details ? el('span', { class: 'contact-find-details' }, details) : null,
    );
    button.addEventListener('click', async () => {
      for (const b of this.list.querySelectorAll('button')) /** @type {HTMLButtonElement} */ (b).disabled = true;
      try {
        await this.pick(c);
      } catch (err) {
        setText(this.summary, `Could not pair the chat: ${errorText(err)}`);
        for (const b of this.list.querySelectorAll('button')) /** @type {HTMLButtonElement} */ (b).disabled = false;
      }
    });
    return el('li', {}, button);
  }
}
