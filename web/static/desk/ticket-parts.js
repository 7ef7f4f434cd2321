// @ts-check
// What the desk's ticket widget (ticket-widget.js) and its tickets view
// (ticket-view.js) share (docs/protocol.md, "Tickets (staff)"): the words
// for a ticket's state, priority and source, a ticket as a list row with
// its star, the filter a list keeps live by (ticket.changed), the choice of
// an assignee, and the "Create ticket" dialog.

import { el, setText } from '../lib/dom.js';
import { day, errorText, hhmm } from '../lib/util.js';
import { formDialog } from '../lib/form-dialog.js';

/**
 * @typedef {import('../lib/types.js').Ticket} Ticket
 * @typedef {import('../lib/types.js').TicketPerson} TicketPerson
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
 * The "Create ticket" dialog for a chat: title (the customer's name
 * proposed), priority, assignee (the caller proposed). Resolves with the
 * ticket made, or null when cancelled.
 * @param {Connection} conn
 * @param {{conversation_id: number, customer: string}} chat
 * @returns {Promise<Ticket | null>}
 */
export async function createTicket(conn, chat) {
  const n = ++dialogs;
  const title = /** @type {HTMLInputElement} */ (
    el('input', { id: `ticket-new-title-${n}`, class: 'text-input', type: 'text', maxlength: 200, required: true, autocomplete: 'off' })
  );
  const priority = prioritySelect(`ticket-new-priority-${n}`, 'normal');
  const people = await colleagues(conn).catch(() => /** @type {TicketPerson[]} */ ([]));
  const assignee = assigneeSelect(`ticket-new-assignee-${n}`, people, 'Nobody (unassigned)');
  if (people.length) assignee.value = String(people[0].id);
  const d = formDialog({
    title: 'Create ticket',
    text: `From the chat with ${chat.customer}: the chat is linked to it.`,
    confirm: 'Create ticket',
    fields: [field('Title', title), field('Priority', priority), field('Assignee', assignee)],
    className: 'ticket-dialog',
  });
  /** @type {Ticket | null} */
  let made = null;
  d.onSubmit = async () => {
    const text = title.value.trim();
    if (!text) {
      title.focus();
      throw new Error('Give the ticket a title.');
    }
    made = /** @type {Ticket} */ (
      await conn.request('ticket.create', {
        conversation_id: chat.conversation_id,
        title: text,
        priority: priority.value,
        assignee_id: assignee.value ? Number(assignee.value) : null,
      })
    );
  };
  return new Promise((resolve) => {
    d.dialog.addEventListener('close', () => resolve(made));
    d.show(title);
  });
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
