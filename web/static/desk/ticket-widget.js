// @ts-check
// The ticket widget beside the open chat (#ticket-panel; docs/protocol.md,
// "Tickets (staff)"): the chat's ticket with its title, state, priority and
// assignee (or "Create ticket" when it has none), and a search of the
// tickets the agent may see, filtered by mine, favourites, this contact and
// this company, each found ticket with its star and "Link to this chat".
//
// Which ticket a chat has comes with its Conversation (`ticket`) and then
// from its private ticket_linked events (without a ticket: unlinked), which every
// staff member following the chat sees; a ticket's details stay live by
// ticket.changed.

import { byId, el } from '../lib/dom.js';
import { errorText, isDisconnected } from '../lib/util.js';
import { createTicket, matches, myId, newer, say, ticketRow, ticketTags } from './ticket-parts.js';

/**
 * @typedef {import('../lib/types.js').Ticket} Ticket
 * @typedef {import('../lib/types.js').TicketRef} TicketRef
 * @typedef {import('../lib/types.js').TicketedConversation} TicketedConversation
 * @typedef {import('../lib/types.js').ChatEvent} ChatEvent
 * @typedef {import('./ticket-parts.js').TicketFilter} TicketFilter
 * @typedef {import('./chat.js').ChatSession} ChatSession
 * @typedef {ChatEvent & {ticket?: {id: number, title: string}}} TicketChatEvent
 */

const SEARCH_DELAY_MS = 250;
const SEARCH_LIMIT = 10;

export class TicketWidget {
  /**
   * @param {object} deps
   * @param {import('../lib/parley.js').Connection} deps.conn
   * @param {import('./notices.js').Notices} deps.notices
   * @param {import('./chats.js').Chats} deps.chats whose onpane and onshown it chains
   * @param {(id: number) => void} deps.open opens a ticket in the tickets view
   */
  constructor({ conn, notices, chats, open }) {
    this.conn = conn;
    this.notices = notices;
    this.openTicket = open;
    /** @type {ChatSession | null} the chat shown */
    this.chat = null;
    /** @type {Map<number, TicketRef | null>} each chat's ticket, as its events last said */
    this.linked = new Map();
    /** @type {Map<number, Ticket>} tickets as last read or told */
    this.tickets = new Map();
    /** @type {Map<number, number | null>} each chat's contact, as its events last said */
    this.contacts = new Map();
    /** @type {Map<number, string>} each contact's company */
    this.companies = new Map();
    /** answers older than the newest search asked are dropped */
    this.asked = 0;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    /** @type {number | null} the chat's contact when the results were asked for */
    this.searchedContact = null;
    /** what the chat's ticket was last drawn from, so that an unchanged one is not drawn again */
    this.drawn = '';
    /** @type {TicketFilter} the filter of the results shown */
    this.shownFilter = {};

    this.panel = byId('ticket-panel');
    this.current = el('div', { class: 'ticket-current', 'aria-live': 'polite' });
    this.createButton = el('button', { class: 'button', type: 'button' }, 'Create ticket');
    this.text = /** @type {HTMLInputElement} */ (
      el('input', { id: 'ticket-search-text', class: 'text-input', type: 'search', maxlength: 100, autocomplete: 'off', placeholder: 'Title, customer, e-mail' })
    );
    /** @param {string} name @param {string} label */
    const box = (name, label) => {
      const input = /** @type {HTMLInputElement} */ (el('input', { type: 'checkbox', name, id: `ticket-filter-${name}` }));
      return { input, label: el('label', { class: 'ticket-filter' }, input, ` ${label}`) };
    };
    this.mine = box('mine', 'Mine');
    this.favourites = box('favourites', 'Favourites');
    this.contact = box('contact', 'This contact');
    this.company = box('company', 'This company');
    this.results = el('ul', { class: 'ticket-list', 'aria-label': 'Tickets found' });
    this.resultState = el('p', { class: 'panel-empty ticket-list-state', role: 'status' });
    this.form = el(
      'form',
      { class: 'ticket-search', role: 'search', 'aria-label': 'Find tickets', novalidate: true },
      el('label', { for: this.text.id, class: 'ticket-search-label' }, 'Search tickets'),
      this.text,
      el('fieldset', { class: 'ticket-filters' }, el('legend', { class: 'visually-hidden' }, 'Filters'), this.mine.label, this.favourites.label, this.contact.label, this.company.label),
    );
    this.panel.append(
      el('h3', { class: 'ticket-subtitle' }, "This chat's ticket"),
      this.current,
      el('h3', { class: 'ticket-subtitle' }, 'Find a ticket'),
      this.form,
      this.results,
      this.resultState,
    );
    this.wire();
    const pane = chats.onpane;
    chats.onpane = (s) => {
      pane?.(s);
      this.show(s);
    };
    const shown = chats.onshown;
    chats.onshown = (s, ev, news) => {
      shown?.(s, ev, news);
      this.event(s, ev);
    };
  }

  wire() {
    this.createButton.addEventListener('click', () => void this.create());
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.search();
    });
    this.text.addEventListener('input', () => this.searchSoon());
    for (const b of [this.mine, this.favourites, this.contact, this.company]) b.input.addEventListener('change', () => this.search());
    this.conn.on('ticket.changed', (/** @type {{ticket: Ticket}} */ data) => this.changed(data.ticket));
    // What was told while the socket was down is read again.
    const hello = this.conn.onhello;
    this.conn.onhello = (h) => {
      hello?.(h);
      this.tickets.clear();
      if (!this.chat) return;
      this.renderCurrent();
      void this.search();
    };
  }

  // ------------------------------------------------------------ from chats

  /**
   * The chat shown changed (or its header): the widget follows it.
   * @param {ChatSession | null} s
   */
  show(s) {
    const before = this.chat;
    this.chat = s;
    // The aside beside the chat shows while a chat does (the contact card,
    // contact*.js, says the same).
    const side = this.panel.parentElement;
    if (side) side.hidden = s === null;
    if (!s) return;
    const conv = /** @type {TicketedConversation} */ (s.conv);
    // The Conversation says which ticket the chat had when it was read;
    // events shown since then say better.
    if (!this.linked.has(s.id) && conv.ticket !== undefined) this.linked.set(s.id, conv.ticket ?? null);
    this.renderCurrent();
    const contact = this.contactOf(s);
    this.contact.input.disabled = contact === null;
    this.company.input.disabled = contact === null;
    if (contact === null) {
      this.contact.input.checked = false;
      this.company.input.checked = false;
    }
    // Another chat, or another contact of this one: the results were another's.
    if (before?.id !== s.id || contact !== this.searchedContact) this.search();
  }

  /**
   * An event of a chat was shown: a ticket linked or unlinked.
   * @param {ChatSession} s
   * @param {TicketChatEvent} ev
   */
  event(s, ev) {
    if (ev.kind === 'contact_paired' || ev.kind === 'contact_unpaired') {
      const c = /** @type {{contact?: {id: number}}} */ (ev).contact;
      this.contacts.set(s.id, ev.kind === 'contact_paired' && c ? c.id : null);
      if (s === this.chat) this.show(s);
      return;
    }
    if (ev.kind === 'ticket_linked' && ev.ticket) {
      const known = this.tickets.get(ev.ticket.id);
      this.linked.set(s.id, { id: ev.ticket.id, title: ev.ticket.title, state: known?.state ?? 'assigned', priority: known?.priority ?? 'normal' });
      if (!known) void this.fetch(ev.ticket.id);
    } else if (ev.kind === 'ticket_linked') {
      // Without a ticket: the chat was unlinked.
      this.linked.set(s.id, null);
    } else return;
    if (s === this.chat) {
      this.renderCurrent();
      this.renderResults();
    }
  }

  /**
   * A ticket changed (ticket.changed): its details, and its place in the
   * results.
   * @param {Ticket} t
   */
  changed(t) {
    if (!newer(t, this.tickets.get(t.id))) return;
    this.tickets.set(t.id, t);
    for (const [conv, ref] of this.linked) if (ref?.id === t.id) this.linked.set(conv, { id: t.id, title: t.title, state: t.state, priority: t.priority });
    if (this.linkedId() === t.id) this.renderCurrent();
    if (this.shownFilter.company) {
      // Whether it is of the company is the contact's to say: ask again.
      if (this.chat) this.searchSoon();
      return;
    }
    const row = this.results.querySelector(`[data-ticket="${t.id}"]`);
    const fits = matches(t, this.shownFilter, myId(this.conn));
    if (row && fits) row.replaceWith(this.row(t));
    else if (row) {
      row.remove();
      this.renderResultState();
    } else if (fits && this.chat) {
      this.results.prepend(this.row(t));
      this.renderResultState();
    }
  }

  // ----------------------------------------------------------- the ticket

  /** The id of the active chat's ticket, or null. */
  linkedId() {
    return this.chat ? (this.linked.get(this.chat.id)?.id ?? null) : null;
  }

  /** @param {number} id */
  async fetch(id) {
    try {
      const { ticket } = /** @type {{ticket: Ticket}} */ (await this.conn.request('ticket.get', { ticket_id: id }));
      this.tickets.set(id, ticket);
      if (this.linkedId() === id) this.renderCurrent();
    } catch (err) {
      if (!isDisconnected(err)) console.warn('parley desk: could not read ticket', id, err);
    }
  }

  renderCurrent() {
    const s = this.chat;
    if (!s) return;
    const ref = this.linked.get(s.id) ?? null;
    if (!ref) {
      this.current.replaceChildren(el('p', { class: 'ticket-none' }, 'No ticket is linked to this chat.'), this.createButton);
      return;
    }
    const t = this.tickets.get(ref.id);
    if (!t) void this.fetch(ref.id);
    const key = JSON.stringify([s.id, ref, t?.title, t?.state, t?.priority, t?.assignee]);
    if (key === this.drawn && this.current.firstElementChild?.classList.contains('ticket-card')) return;
    this.drawn = key;
    const open = el('button', { class: 'ticket-open', type: 'button' }, el('span', { class: 'ticket-number' }, `#${ref.id}`), ' ', t?.title ?? ref.title);
    open.addEventListener('click', () => this.openTicket(ref.id));
    const unlink = el('button', { class: 'button button-quiet', type: 'button' }, 'Unlink');
    unlink.addEventListener('click', () => void this.link(null));
    const assignee = t ? (t.assignee ? `Assigned to ${t.assignee.name}` : 'Nobody has it') : '';
    this.current.replaceChildren(
      el(
        'div',
        { class: 'ticket-card', 'data-ticket': ref.id, role: 'group', 'aria-label': `Ticket #${ref.id}` },
        el('p', { class: 'ticket-card-title' }, open),
        el('p', { class: 'ticket-row-meta' }, ...ticketTags(t ?? ref)),
        el('p', { class: 'ticket-card-assignee' }, assignee),
        el('div', { class: 'ticket-row-actions' }, unlink),
      ),
    );
  }

  async create() {
    const s = this.chat;
    if (!s) return;
    const t = await createTicket(this.conn, { conversation_id: s.id, customer: s.conv.customer.name });
    if (!t) return;
    this.tickets.set(t.id, t);
    // The ticket_linked event says so too; the answer is sooner.
    this.linked.set(s.id, { id: t.id, title: t.title, state: t.state, priority: t.priority });
    if (this.chat === s) {
      this.renderCurrent();
      this.search();
    }
  }

  /**
   * Links the ticket to the chat shown ("assign the ticket to the chat"),
   * or unlinks the chat's ticket (null).
   * @param {Ticket | null} t
   */
  async link(t) {
    const s = this.chat;
    if (!s) return;
    try {
      const { conversation } = /** @type {{conversation: TicketedConversation}} */ (
        await this.conn.request('ticket.link', { conversation_id: s.id, ticket_id: t ? t.id : null })
      );
      this.linked.set(s.id, conversation.ticket ?? null);
    } catch (err) {
      this.notices.show(t ? `Could not link ticket #${t.id} to the chat: ${errorText(err)}` : `Could not unlink the ticket: ${errorText(err)}`);
      return;
    }
    if (this.chat === s) {
      this.renderCurrent();
      this.renderResults();
    }
  }

  // --------------------------------------------------------------- search

  searchSoon() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.search(), SEARCH_DELAY_MS);
  }

  /**
   * The contact of a chat, or null: as its contact_paired and
   * contact_unpaired events last said, else as its Conversation did.
   * @param {ChatSession} s
   */
  contactOf(s) {
    const told = this.contacts.get(s.id);
    if (told !== undefined) return told;
    const c = /** @type {{contact?: {id: number} | null}} */ (s.conv).contact;
    return c ? c.id : null;
  }

  /** Searches with the filters chosen; the newest answer is shown. */
  async search() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const s = this.chat;
    if (!s) return;
    const n = ++this.asked;
    this.searchedContact = this.contactOf(s);
    /** @type {TicketFilter} */
    const f = {};
    const text = this.text.value.trim();
    if (text) f.text = text;
    if (this.mine.input.checked) f.mine = true;
    if (this.favourites.input.checked) f.favourites = true;
    const contact = this.contactOf(s);
    if (this.contact.input.checked && contact) f.contact_id = contact;
    say(this.resultState, 'Searching…');
    try {
      if (this.company.input.checked && contact) {
        const company = await this.companyOf(contact);
        if (!company) {
          if (n === this.asked) this.showResults([], f, 'The contact has no company.');
          return;
        }
        f.company = company;
      }
      const { tickets } = /** @type {{tickets: Ticket[]}} */ (await this.conn.request('ticket.search', { ...f, limit: SEARCH_LIMIT }));
      if (n !== this.asked) return;
      for (const t of tickets) this.tickets.set(t.id, t);
      this.showResults(tickets, f, '');
    } catch (err) {
      if (n === this.asked) say(this.resultState, `Could not search the tickets: ${errorText(err)}`);
    }
  }

  /** @param {number} contact */
  async companyOf(contact) {
    const known = this.companies.get(contact);
    if (known !== undefined) return known;
    const { contact: c } = /** @type {{contact: {company: string}}} */ (await this.conn.request('contact.get', { contact_id: contact, limit: 1 }));
    this.companies.set(contact, c.company);
    return c.company;
  }

  /**
   * @param {Ticket[]} tickets
   * @param {TicketFilter} f
   * @param {string} why what to say when there are none
   */
  showResults(tickets, f, why) {
    this.shownFilter = f;
    this.results.replaceChildren(...tickets.map((t) => this.row(t)));
    this.renderResultState(why);
  }

  /** The rows again: whether each may be linked changed. */
  renderResults() {
    for (const row of /** @type {HTMLElement[]} */ ([...this.results.children])) {
      const t = this.tickets.get(Number(row.dataset.ticket));
      if (t) row.replaceWith(this.row(t));
    }
  }

  /** @param {string} [why] */
  renderResultState(why = '') {
    say(this.resultState, this.results.children.length ? '' : why || 'No tickets found.');
  }

  /** @param {Ticket} t */
  row(t) {
    /** @type {HTMLElement[]} */
    const extra = [];
    if (t.id !== this.linkedId()) {
      const link = el('button', { class: 'button ticket-small', type: 'button', 'aria-label': `Link ticket #${t.id} to this chat` }, 'Link to this chat');
      link.addEventListener('click', () => void this.link(t));
      extra.push(link);
    } else extra.push(el('span', { class: 'ticket-linked-mark' }, 'Linked to this chat'));
    return ticketRow(this.conn, t, {
      open: (x) => this.openTicket(x.id),
      error: (message) => this.notices.show(message),
      extra,
    });
  }
}
