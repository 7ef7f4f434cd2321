// @ts-check
// The agent's tickets (the top bar's "Tickets" opens them; docs/protocol.md,
// "Tickets (staff)"): a list of those assigned to the agent, those of the
// agent's queues nobody has, or all the agent may see, by state, newest
// change first; kept live by ticket.changed. Choosing one opens its thread
// beside the list (ticket-thread.js). The top bar's button counts what
// waits for the agent: the open tickets assigned to them and those of
// their queues nobody has (ticket.counts, asked again after a change).
// "New ticket" makes one by hand in one of the agent's queues (the dialog
// of ticket-parts.js); it opens in the thread, and the list follows.

import { byId, setText } from '../lib/dom.js';
import { errorText, isDisconnected } from '../lib/util.js';
import { createTicket, matches, myId, newer, say, ticketRow } from './ticket-parts.js';
import { TicketThreadView } from './ticket-thread.js';

/**
 * @typedef {import('../lib/types.js').Ticket} Ticket
 * @typedef {import('./ticket-parts.js').TicketFilter} TicketFilter
 */

const PAGE = 30;
const COUNT_DELAY_MS = 500;

export class TicketsView {
  /**
   * @param {object} deps
   * @param {import('../lib/parley.js').Connection} deps.conn
   * @param {import('./notices.js').Notices} deps.notices
   */
  constructor({ conn, notices }) {
    this.conn = conn;
    this.notices = notices;
    this.dialog = /** @type {HTMLDialogElement} */ (byId('tickets-view'));
    this.openButton = byId('tickets-open');
    this.scope = /** @type {HTMLSelectElement} */ (byId('tickets-scope'));
    this.state = /** @type {HTMLSelectElement} */ (byId('tickets-state'));
    this.list = byId('tickets-list');
    this.listState = byId('tickets-list-state');
    this.more = /** @type {HTMLButtonElement} */ (byId('tickets-more'));
    this.badge = byId('tickets-count');
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.countTimer = null;
    this.thread = new TicketThreadView({ conn, root: byId('ticket-detail') });
    /** @type {TicketFilter} the filter of the list shown */
    this.filter = {};
    this.cursor = '';
    this.asked = 0;
    /** @type {Map<number, Ticket>} the newest told or read of each ticket */
    this.shown = new Map();
    /** the list was read on this connection */
    this.loaded = false;

    this.openButton.addEventListener('click', () => this.show(null));
    this.newButton = /** @type {HTMLButtonElement} */ (byId('tickets-new'));
    this.newButton.addEventListener('click', () => void this.create());
    byId('tickets-close').addEventListener('click', () => this.dialog.close());
    this.scope.addEventListener('change', () => void this.load());
    this.state.addEventListener('change', () => void this.load());
    this.more.addEventListener('click', () => void this.load(this.cursor));
    conn.on('ticket.changed', (/** @type {{ticket: Ticket}} */ data) => this.changed(data.ticket));
    const hello = conn.onhello;
    conn.onhello = (h) => {
      hello?.(h);
      void this.count();
      if (this.dialog.open) {
        void this.load();
        void this.thread.reload();
      } else this.loaded = false;
    };
  }

  /**
   * Opens the view, on a ticket when one is given.
   * @param {number | null} id
   */
  show(id) {
    if (!this.dialog.open) this.dialog.showModal();
    if (!this.loaded) void this.load();
    if (id !== null) {
      this.pick(id);
      this.thread.title.focus();
    } else this.scope.focus();
  }

  /** The filter the controls say. @returns {TicketFilter} */
  chosen() {
    const state = /** @type {TicketFilter['state'] | ''} */ (this.state.value);
    switch (this.scope.value) {
      case 'unassigned':
        return { state: 'unassigned' };
      case 'mine':
        return state ? { mine: true, state } : { mine: true };
      default:
        return state ? { state } : {};
    }
  }

  /**
   * Reads the list from its start, or the next page after cursor.
   * @param {string} [cursor]
   */
  async load(cursor = '') {
    const f = this.chosen();
    this.state.disabled = this.scope.value === 'unassigned';
    const n = ++this.asked;
    if (!cursor) say(this.listState, 'Loading…');
    try {
      const page = /** @type {{tickets: Ticket[], cursor: string}} */ (await this.conn.request('ticket.search', { ...f, limit: PAGE, cursor }));
      if (n !== this.asked) return;
      this.filter = f;
      this.loaded = true;
      for (const t of page.tickets) if (newer(t, this.shown.get(t.id))) this.shown.set(t.id, t);
      const rows = page.tickets.map((t) => this.row(t));
      if (cursor) this.list.append(...rows);
      else this.list.replaceChildren(...rows);
      this.cursor = page.cursor;
      this.more.hidden = !page.cursor;
      this.renderState();
    } catch (err) {
      if (n !== this.asked) return;
      if (!isDisconnected(err)) say(this.listState, `Could not read the tickets: ${errorText(err)}`);
    }
  }

  renderState() {
    say(this.listState, this.list.children.length ? '' : 'No tickets here.');
  }

  /**
   * ticket.changed: the ticket moves to the top of the list when it belongs
   * there (newest change first), leaves it when it no longer does.
   * @param {Ticket} t
   */
  changed(t) {
    this.thread.changed(t);
    this.countSoon();
    if (!this.loaded) return;
    const known = this.shown.get(t.id);
    if (!newer(t, known)) return;
    this.shown.set(t.id, t);
    const row = this.list.querySelector(`[data-ticket="${t.id}"]`);
    row?.remove();
    if (matches(t, this.filter, myId(this.conn))) this.list.prepend(this.row(t));
    this.renderState();
  }

  countSoon() {
    if (this.countTimer) clearTimeout(this.countTimer);
    this.countTimer = setTimeout(() => void this.count(), COUNT_DELAY_MS);
  }

  /** The button's count: the agent's open tickets and the unassigned ones of their queues. */
  async count() {
    this.countTimer = null;
    try {
      const c = /** @type {{unassigned: number, assigned: {agent: {id: number} | null, count: number}[]}} */ (await this.conn.request('ticket.counts'));
      const me = myId(this.conn);
      const mine = c.assigned.find((a) => a.agent?.id === me)?.count ?? 0;
      const n = mine + c.unassigned;
      setText(this.badge, String(n));
      this.badge.hidden = n === 0;
      this.openButton.setAttribute('aria-label', n ? `Tickets: ${mine} assigned to you, ${c.unassigned} unassigned` : 'Tickets');
    } catch (err) {
      if (!isDisconnected(err)) console.warn('parley desk: could not count the tickets', err);
    }
  }

  /**
   * "New ticket": the dialog offers the agent's queues (agent.state, asked
   * now so a queue joined since the hello is there); the ticket made opens.
   */
  async create() {
    this.newButton.disabled = true;
    try {
      const { queues } = /** @type {import('../lib/types.js').AgentState} */ (await this.conn.request('agent.state'));
      if (!queues?.length) {
        this.notices.show('You are a member of no queue, so there is none to make a ticket in.');
        return;
      }
      const t = await createTicket(this.conn, { queues });
      // The list follows by its ticket.changed, as for every change.
      if (t) this.pick(t.id);
    } catch (err) {
      this.notices.show(`Could not open the new ticket form: ${errorText(err)}`);
    } finally {
      this.newButton.disabled = false;
    }
  }

  /** @param {Ticket} t */
  row(t) {
    const r = ticketRow(this.conn, t, { open: (x) => this.pick(x.id), error: (m) => this.notices.show(m) });
    if (t.id === this.thread.id) r.setAttribute('aria-current', 'true');
    return r;
  }

  /** @param {number} id */
  pick(id) {
    for (const r of this.list.querySelectorAll('[aria-current]')) r.removeAttribute('aria-current');
    this.list.querySelector(`[data-ticket="${id}"]`)?.setAttribute('aria-current', 'true');
    void this.thread.open(id);
  }
}
