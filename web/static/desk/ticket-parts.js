// @ts-check
// What the desk's ticket widget (ticket-widget.js) and its tickets view
// (ticket-view.js) share (docs/protocol.md, "Tickets (staff)"): the words
// for a ticket's state, priority and source, a ticket as a list row with
// its star, the filter a list keeps live by (ticket.changed), the choice of
// an assignee, and the ticket dialog: "Create ticket" from a chat, "New
// ticket" by hand.

import { el, setText } from '../lib/dom.js';
import { day, errorText, hhmm } from '../lib/util.js';
import { formDialog } from '../lib/form-dialog.js';

/**
 * @typedef {import('../lib/types.js').Ticket} Ticket
 * @typedef {import('../lib/types.js').TicketPerson} TicketPerson
 * @typedef {import('../lib/types.js').Contact} Contact
 * @typedef {import('../lib/parley.js').Connection} Connection
 *
 * @typedef {object} TicketFilter what a ticket list shows; absent fields do not filter
 * @property {string} [text]
 * @property {'unassigned' | 'assigned' | 'closed' | 'open'} [state]
 * @property {boolean} [mine]
 * @property {boolean} [favourites]
 * @property {number} [contact_id]
 * @property {string} [company]
 */

/** @type {Record<Ticket['state'], string>} */
export const STATE_TEXT = { unassigned: 'Unassigned', assigned: 'Assigned', closed: 'Closed' };

/** @type {Record<Ticket['priority'], string>} */
export const PRIORITY_TEXT = { low: 'Low', normal: 'Normal', high: 'High', urgent: 'Urgent' };

/** @type {Record<Ticket['source'], string>} */
export const SOURCE_TEXT = {
  agent: 'made from a chat',
  manual: 'made by hand',
  offline: 'an offline message',
  max_wait: 'a chat that waited too long',
  queue_closed: 'a chat whose queue closed',
};

/** The priorities, lowest first, as a form offers them. */
export const PRIORITIES = /** @type {Ticket['priority'][]} */ (['low', 'normal', 'high', 'urgent']);

/**
 * A time as a list shows it: the time of day today, else the day.
 * @param {string} iso
 */
export function when(iso) {
  const t = new Date(iso);
  return t.toDateString() === new Date().toDateString() ? hhmm(iso) : day(iso);
}

/**
 * A ticket's state and priority as two tags.
 * @param {Pick<Ticket, 'state' | 'priority'>} t
 */
export function ticketTags(t) {
  return [
    el('span', { class: `tag ticket-state ticket-state-${t.state}` }, STATE_TEXT[t.state] ?? t.state),
    el('span', { class: `tag ticket-priority ticket-priority-${t.priority}` }, PRIORITY_TEXT[t.priority] ?? t.priority),
  ];
}

/**
 * A star button: pressed when the ticket is the caller's favourite.
 * @param {Connection} conn
 * @param {Ticket} t
 * @param {(message: string) => void} error
 */
export function starButton(conn, t, error) {
  const b = /** @type {HTMLButtonElement} */ (
    el('button', { class: 'ticket-star', type: 'button', 'aria-pressed': String(t.favourite), 'aria-label': `Favourite ticket #${t.id}`, title: 'Favourite' }, '★')
  );
  b.addEventListener('click', async () => {
    const on = b.getAttribute('aria-pressed') !== 'true';
    b.disabled = true;
    try {
      await conn.request('ticket.favourite', { ticket_id: t.id, favourite: on });
      b.setAttribute('aria-pressed', String(on));
      t.favourite = on;
    } catch (err) {
      error(`Could not ${on ? 'star' : 'unstar'} ticket #${t.id}: ${errorText(err)}`);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

/**
 * A ticket as a list item: its number and title (a button that opens it),
 * its tags, who has it and the customer, the star, and the extra buttons
 * the list gives it.
 * @param {Connection} conn
 * @param {Ticket} t
 * @param {{open: (t: Ticket) => void, error: (message: string) => void, extra?: HTMLElement[]}} o
 */
export function ticketRow(conn, t, o) {
  const open = el('button', { class: 'ticket-open', type: 'button' }, el('span', { class: 'ticket-number' }, `#${t.id}`), ' ', t.title);
  open.addEventListener('click', () => o.open(t));
  const who = [t.customer_name || t.email, t.assignee ? `with ${t.assignee.name}` : 'nobody has it', t.queue.name].filter(Boolean).join(' · ');
  return el(
    'li',
    { class: 'ticket-row', 'data-ticket': t.id, 'data-state': t.state },
    el('div', { class: 'ticket-row-head' }, open, starButton(conn, t, o.error)),
    el('p', { class: 'ticket-row-meta' }, ...ticketTags(t), el('span', { class: 'ticket-row-who' }, who), el('time', { datetime: t.updated_at }, when(t.updated_at))),
    o.extra?.length ? el('div', { class: 'ticket-row-actions' }, ...o.extra) : null,
  );
}

/**
 * Whether a ticket told by ticket.changed is news beside the one known:
 * two changes close together may be told out of order, and the one with
 * the higher last_seq is the later (docs/protocol.md, ticket.changed).
 * @param {Ticket} told
 * @param {Ticket | undefined} known
 */
export function newer(told, known) {
  return !known || told.last_seq >= known.last_seq;
}

/**
 * The caller's user id (the hello's principal is "user:1"), or null.
 * @param {Connection} conn
 */
export function myId(conn) {
  const m = /^user:(\d+)$/.exec(conn.hello?.principal.id ?? '');
  return m ? Number(m[1]) : null;
}

/**
 * Whether a ticket (as ticket.changed tells it) belongs in a list of this
 * filter, as far as the desk can tell: company is the contact's, which
 * the ticket does not carry, so a list filtered by it asks again instead.
 * @param {Ticket} t
 * @param {TicketFilter} f
 * @param {number | null} me the caller's user id
 */
export function matches(t, f, me) {
  if (f.state === 'open' ? t.state === 'closed' : f.state && t.state !== f.state) return false;
  if (f.mine && (me === null || t.assignee?.id !== me)) return false;
  if (f.favourites && !t.favourite) return false;
  if (f.contact_id && t.contact?.id !== f.contact_id) return false;
  if (f.text) {
    const q = f.text.toLowerCase();
    if (![t.title, t.customer_name, t.email].some((s) => s.toLowerCase().includes(q))) return false;
  }
  return true;
}

/**
 * The colleagues a ticket may be assigned to, for a select: the caller
 * first ("Me"), then every other staff member (staff.directory). Whether
 * the one chosen may see the ticket is the server's to say.
 * @param {Connection} conn
 * @returns {Promise<TicketPerson[]>}
 */
export async function colleagues(conn) {
  const me = conn.hello?.principal;
  const id = myId(conn);
  const { users } = /** @type {{users: {id: number, name: string, role: string}[]}} */ (await conn.request('staff.directory'));
  const rest = users.filter((u) => u.role !== 'customer').map((u) => ({ id: u.id, name: u.name }));
  return me && id !== null ? [{ id, name: `${me.name} (me)` }, ...rest.filter((u) => u.id !== id)] : rest;
}

/**
 * A labelled field.
 * @param {string} label
 * @param {HTMLElement} input with its id set
 */
export function field(label, input) {
  return el('div', { class: 'field ticket-field' }, el('label', { for: input.id }, label), input);
}

/**
 * A select of priorities.
 * @param {string} id
 * @param {Ticket['priority']} value
 */
export function prioritySelect(id, value) {
  const s = /** @type {HTMLSelectElement} */ (el('select', { id, class: 'text-input' }, ...PRIORITIES.map((p) => el('option', { value: p }, PRIORITY_TEXT[p]))));
  s.value = value;
  return s;
}

/**
 * A select of assignees: nobody, then the people given.
 * @param {string} id
 * @param {TicketPerson[]} people
 * @param {string} nobody the first choice's words
 */
export function assigneeSelect(id, people, nobody) {
  return /** @type {HTMLSelectElement} */ (
    el('select', { id, class: 'text-input' }, el('option', { value: '' }, nobody), ...people.map((p) => el('option', { value: p.id }, p.name)))
  );
}

let dialogs = 0;

/**
 * @typedef {{conversation_id: number, customer: string}} FromChat a ticket made from a chat
 * @typedef {{queues: {id: number, name: string}[]}} ByHand a ticket made by hand, in one of these queues
 */

/** The wire's field names, as a refusal names them first, and the form's. */
const FIELDS = /** @type {const} */ (['title', 'priority', 'assignee_id', 'queue_id', 'email', 'contact_id', 'text']);

/**
 * The ticket dialog: "Create ticket" from a chat (title with the chat
 * linked, priority, assignee) or "New ticket" by hand (queue, title,
 * priority, the customer's e-mail, a contact found by search, assignee,
 * first note). The caller is the proposed assignee. A refusal that names
 * its field ("\"email\" must be …") shows at that field. Resolves with the
 * ticket made, or null when cancelled.
 * @param {Connection} conn
 * @param {FromChat | ByHand} from
 * @returns {Promise<Ticket | null>}
 */
export async function createTicket(conn, from) {
  const n = ++dialogs;
  const chat = 'conversation_id' in from ? from : null;
  const title = /** @type {HTMLInputElement} */ (
    el('input', { id: `ticket-new-title-${n}`, class: 'text-input', type: 'text', maxlength: 200, required: true, autocomplete: 'off' })
  );
  const priority = prioritySelect(`ticket-new-priority-${n}`, 'normal');
  const people = await colleagues(conn).catch(() => /** @type {TicketPerson[]} */ ([]));
  const assignee = assigneeSelect(`ticket-new-assignee-${n}`, people, 'Nobody (unassigned)');
  if (people.length) assignee.value = String(people[0].id);
  /** @type {Map<string, {input: HTMLElement, error: HTMLElement}>} */
  const at = new Map();
  /**
   * A field that shows the server's refusal of it.
   * @param {typeof FIELDS[number]} name
   * @param {string} label
   * @param {HTMLElement} input with its id set
   * @param {HTMLElement[]} [more] shown under the input
   */
  const named = (name, label, input, more = []) => {
    const error = el('p', { id: `${input.id}-error`, class: 'form-error ticket-field-error', hidden: true });
    input.setAttribute('aria-describedby', error.id);
    at.set(name, { input, error });
    const f = field(label, input);
    f.append(...more, error);
    return f;
  };
  /** @type {HTMLElement[]} */
  let fields;
  /** @type {() => Record<string, unknown>} */
  let where;
  if (chat) {
    fields = [named('title', 'Title', title), named('priority', 'Priority', priority), named('assignee_id', 'Assignee', assignee)];
    where = () => ({ conversation_id: chat.conversation_id });
  } else {
    const { queues } = /** @type {ByHand} */ (from);
    const queue = /** @type {HTMLSelectElement} */ (
      el('select', { id: `ticket-new-queue-${n}`, class: 'text-input' }, ...queues.map((q) => el('option', { value: q.id }, q.name)))
    );
    const email = /** @type {HTMLInputElement} */ (
      el('input', { id: `ticket-new-email-${n}`, class: 'text-input', type: 'email', maxlength: 254, autocomplete: 'off', placeholder: 'customer@example.com' })
    );
    const contact = new ContactChoice(conn, `ticket-new-contact-${n}`, (c) => {
      if (c?.emails.length) email.value = c.emails[0];
    });
    const note = /** @type {HTMLTextAreaElement} */ (el('textarea', { id: `ticket-new-text-${n}`, class: 'text-input', rows: 3, maxlength: 10000 }));
    fields = [
      named('queue_id', 'Queue', queue),
      named('title', 'Title', title),
      named('priority', 'Priority', priority),
      named('contact_id', 'Contact', contact.input, contact.more),
      named('email', 'Customer’s e-mail', email),
      named('assignee_id', 'Assignee', assignee),
      named('text', 'First note', note),
    ];
    where = () => ({
      queue_id: Number(queue.value),
      contact_id: contact.chosen?.id ?? null,
      email: email.value.trim(),
      text: note.value.trim(),
    });
  }
  /** Hides every field's refusal. */
  const clear = () => {
    for (const f of at.values()) {
      f.error.hidden = true;
      f.input.removeAttribute('aria-invalid');
    }
  };
  /**
   * Shows a refusal at the field it names first, if it names one.
   * @param {unknown} err
   */
  const atField = (err) => {
    const message = err instanceof Error ? err.message : '';
    const f = at.get(/^"([a-z_]+)"/.exec(message)?.[1] ?? '');
    if (!f) return false;
    setText(f.error, message);
    f.error.hidden = false;
    f.input.setAttribute('aria-invalid', 'true');
    f.input.focus();
    return true;
  };
  const d = formDialog({
    title: chat ? 'Create ticket' : 'New ticket',
    text: chat ? `From the chat with ${chat.customer}: the chat is linked to it.` : '',
    confirm: 'Create ticket',
    fields,
    className: 'ticket-dialog',
    shownElsewhere: atField,
  });
  /** @type {Ticket | null} */
  let made = null;
  d.onSubmit = async () => {
    clear();
    const text = title.value.trim();
    if (!text) {
      title.focus();
      throw new Error('Give the ticket a title.');
    }
    made = /** @type {Ticket} */ (
      await conn.request('ticket.create', {
        ...where(),
        title: text,
        priority: priority.value,
        assignee_id: assignee.value ? Number(assignee.value) : null,
      })
    );
  };
  return new Promise((resolve) => {
    d.dialog.addEventListener('close', () => resolve(made));
    d.show(chat ? title : null);
  });
}

const TYPING_PAUSE_MS = 250;
const MIN_QUERY = 2;

/**
 * The new ticket's contact, found by search (contact.search from two
 * characters, only the newest answer shown): a search box and the
 * contacts found; the one picked shows instead, with a button to remove it.
 */
class ContactChoice {
  /**
   * @param {Connection} conn
   * @param {string} id the search box's id
   * @param {(c: Contact | null) => void} picked
   */
  constructor(conn, id, picked) {
    this.conn = conn;
    /** @type {Contact | null} */
    this.chosen = null;
    this.input = /** @type {HTMLInputElement} */ (
      el('input', { id, type: 'search', class: 'text-input', autocomplete: 'off', placeholder: 'Find by name, e-mail, phone or company' })
    );
    this.summary = el('p', { class: 'ticket-contact-summary', role: 'status', 'aria-live': 'polite', hidden: true });
    this.list = el('ul', { class: 'ticket-contact-results', 'aria-label': 'Contacts found' });
    this.name = el('span', { class: 'ticket-contact-name' });
    const remove = el('button', { type: 'button', class: 'button button-quiet' }, 'Remove');
    this.picked = el('p', { class: 'ticket-contact-picked', hidden: true }, this.name, ' ', remove);
    /** what shows under the search box */
    this.more = [this.summary, this.list, this.picked];
    this.asked = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.input.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.search(), TYPING_PAUSE_MS);
    });
    // Enter in the box searches now; it does not send the form.
    this.input.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      e.preventDefault();
      clearTimeout(this.timer);
      void this.search();
    });
    remove.addEventListener('click', () => {
      this.choose(null);
      picked(null);
      this.input.focus();
    });
    this.onpick = picked;
  }

  /** @param {Contact | null} c */
  choose(c) {
    this.chosen = c;
    setText(this.name, c ? `${c.name}${c.emails[0] ? ` <${c.emails[0]}>` : ''}` : '');
    this.picked.hidden = !c;
    this.input.hidden = !!c;
    this.list.replaceChildren();
    say(this.summary, '');
  }

  async search() {
    const query = this.input.value.trim();
    const asked = ++this.asked;
    if ([...query].length < MIN_QUERY) {
      this.list.replaceChildren();
      say(this.summary, query ? `Type at least ${MIN_QUERY} characters.` : '');
      return;
    }
    say(this.summary, 'Searching…');
    try {
      const { contacts } = /** @type {{contacts: Contact[]}} */ (await this.conn.request('contact.search', { query, limit: 10 }));
      if (asked !== this.asked) return;
      this.list.replaceChildren(...contacts.map((c) => this.item(c)));
      say(this.summary, contacts.length === 0 ? `No contact matches “${query}”.` : `${contacts.length} found.`);
    } catch (err) {
      if (asked === this.asked) say(this.summary, `Could not search: ${errorText(err)}`);
    }
  }

  /** @param {Contact} c */
  item(c) {
    const details = [c.emails[0] ?? '', c.company].filter(Boolean).join(' · ');
    const b = el(
      'button',
      { type: 'button', class: 'ticket-contact-result', 'data-contact': c.id, 'aria-label': `Choose ${c.name}${details ? `, ${details}` : ''}` },
      el('span', { class: 'ticket-contact-name' }, c.name),
      details ? el('span', { class: 'ticket-contact-details' }, details) : null,
    );
    b.addEventListener('click', () => {
      this.choose(c);
      this.onpick(c);
    });
    return el('li', {}, b);
  }
}

/**
 * Replaces a line's text and shows it, or hides it when text is empty.
 * @param {HTMLElement} node
 * @param {string} text
 */
export function say(node, text) {
  setText(node, text);
  node.hidden = text === '';
}
