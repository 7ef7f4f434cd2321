// @ts-check
// The Tickets list of the live floor (docs/protocol.md, "Tickets
// (staff)"): Unassigned, Assigned and Closed, the assigned and the closed
// grouped by agent with a count each (ticket.counts; closed: those closed
// today, UTC), the tickets of each (ticket.search, newest change first,
// 100 a page). It stays live: every ticket.changed replaces the ticket
// shown (it moves to its new state and agent) and asks for the counts
// again. From a ticket's row: open it (its thread in the ticket pane,
// tickets-thread.js), assign it, close it, reopen it (tickets-actions.js).

import { el, setText } from '../lib/dom.js';
import { errorText, isDisconnected } from '../lib/util.js';
import { PRIORITY_TEXT, at, ticketButtons, ticketName } from './tickets-actions.js';
import { TicketPane } from './tickets-thread.js';

/**
 * @typedef {import('./types.js').Ctx} Ctx
 * @typedef {import('./types.js').Ticket} Ticket
 * @typedef {import('./types.js').TicketCounts} TicketCounts
 * @typedef {import('./floor.js').FloorView} FloorView
 * @typedef {'unassigned' | 'assigned' | 'closed'} State
 */

/** @type {[State, string][]} */
const STATES = [['unassigned', 'Unassigned'], ['assigned', 'Assigned'], ['closed', 'Closed']];
const PAGE = 100;

/** The Tickets list, in its panel of the lists. */
export class TicketsList {
  /**
   * @param {Ctx} ctx
   * @param {HTMLElement} panel
   * @param {FloorView} view the floor: its agents are whom a ticket can go to
   */
  constructor(ctx, panel, view) {
    this.ctx = ctx;
    this.view = view;
    /** @type {Map<number, Ticket>} every ticket loaded or told of */
    this.tickets = new Map();
    /** @type {TicketCounts | null} */
    this.counts = null;
    /** @type {State} */
    this.state = 'unassigned';
    /** @type {Map<State, string>} the cursor of each state loaded ('' when all are) */
    this.cursors = new Map();
    this.started = false;
    this.counting = false;
    this.countAgain = false;
    this.pane = new TicketPane(ctx, view, (t) => this.changed(t));

    /** @type {Map<State, {button: HTMLButtonElement, count: HTMLElement}>} */
    this.switches = new Map();
    const bar = el('div', { class: 'sup-ticket-states', role: 'group', 'aria-label': 'Ticket states' });
    for (const [state, label] of STATES) {
      const count = el('span', { class: 'sup-count' }, '…');
      const button = el('button', { type: 'button', class: 'sup-tab', id: `tickets-${state}`, 'aria-pressed': String(state === this.state) },
        label, ' ', count);
      button.addEventListener('click', () => this.choose(state));
      bar.append(button);
      this.switches.set(state, { button, count });
    }
    this.status = el('p', { class: 'sup-muted', role: 'status', 'aria-live': 'polite' });
    // The list is redrawn on every change: the status line, not the list,
    // tells a screen reader what moved.
    this.groups = el('div', { id: 'tickets-groups' });
    this.more = el('button', { type: 'button', class: 'button button-quiet', hidden: true }, 'Show more');
    this.more.addEventListener('click', () => void this.load(this.state, this.cursors.get(this.state)));
    panel.replaceChildren(el('h3', { class: 'visually-hidden' }, 'Tickets'), bar, this.status, this.groups, this.more);

    ctx.conn.on('ticket.changed', (d) => {
      if (!this.started) return;
      const t = /** @type {{ticket: Ticket}} */ (d).ticket;
      const old = this.tickets.get(t.id);
      if (!old || (old.state !== t.state && old.last_seq < t.last_seq)) {
        setText(this.status, `${ticketName(t)}: ${t.state === 'assigned' && t.assignee ? `assigned to ${t.assignee.name}` : t.state}.`);
      }
      this.changed(t);
    });
    ctx.conn.on('session.resync', () => this.reload());
  }

  /** The list is shown: load it the first time. */
  shown() {
    if (this.started) return;
    this.started = true;
    this.reload();
  }

  /** Loads what is shown again (after a reconnect: changes may have been missed). */
  reload() {
    if (!this.started || !this.ctx.conn.ready) return;
    // What was kept may have changed unseen: each state is read afresh.
    this.tickets.clear();
    this.cursors.clear();
    void this.countAgainSoon();
    void this.load(this.state);
    this.pane.reload();
  }

  /** @param {State} state */
  choose(state) {
    this.state = state;
    for (const [s, sw] of this.switches) sw.button.setAttribute('aria-pressed', String(s === state));
    this.render();
    if (!this.cursors.has(state)) void this.load(state);
  }

  /**
   * Loads a page of the state's tickets.
   * @param {State} state
   * @param {string} [cursor] the page after the one before
   */
  async load(state, cursor) {
    setText(this.status, 'Loading…');
    try {
      /** @type {{tickets: Ticket[], cursor: string}} */
      const page = await this.ctx.conn.request('ticket.search', cursor ? { state, limit: PAGE, cursor } : { state, limit: PAGE });
      for (const t of page.tickets) this.keep(t);
      this.cursors.set(state, page.cursor);
      setText(this.status, '');
    } catch (err) {
      if (!isDisconnected(err)) setText(this.status, `Could not load the tickets: ${errorText(err)}`);
    }
    this.render();
  }

  /**
   * Keeps t unless a later version of it is kept already (changes may be
   * told out of order: the higher last_seq wins).
   * @param {Ticket} t
   */
  keep(t) {
    const old = this.tickets.get(t.id);
    if (!old || t.last_seq >= old.last_seq) this.tickets.set(t.id, t);
  }

  /**
   * A ticket changed (an answer of ours, or ticket.changed).
   * @param {Ticket} t
   */
  changed(t) {
    this.keep(t);
    this.render();
    this.pane.changed(t);
    void this.countAgainSoon();
  }

  /** Asks for the counts; a change meanwhile asks once more after. */
  async countAgainSoon() {
    if (this.counting) {
      this.countAgain = true;
      return;
    }
    this.counting = true;
    try {
      do {
        this.countAgain = false;
        this.counts = /** @type {TicketCounts} */ (await this.ctx.conn.request('ticket.counts', {}));
        this.render();
      } while (this.countAgain);
    } catch (err) {
      if (!isDisconnected(err)) setText(this.status, `Could not count the tickets: ${errorText(err)}`);
    } finally {
      this.counting = false;
    }
  }

  render() {
    const c = this.counts;
    if (c) {
      const sum = (/** @type {{count: number}[]} */ l) => l.reduce((n, g) => n + g.count, 0);
      setText(this.switches.get('unassigned')?.count ?? el('span'), String(c.unassigned));
      setText(this.switches.get('assigned')?.count ?? el('span'), String(sum(c.assigned)));
      setText(this.switches.get('closed')?.count ?? el('span'), String(sum(c.closed)));
    }
    const shown = [...this.tickets.values()].filter((t) => t.state === this.state)
      .sort((a, b) => b.updated_at.localeCompare(a.updated_at) || b.id - a.id);
    const sections = this.state === 'unassigned'
      ? [this.group('unassigned', 'Unassigned', c?.unassigned ?? shown.length, shown)]
      : this.byAgent(shown, this.state === 'assigned' ? c?.assigned ?? [] : c?.closed ?? []);
    if (this.state === 'closed') sections.unshift(el('p', { class: 'sup-muted' }, 'The counts are of the tickets closed today (UTC).'));
    if (!shown.length && this.cursors.has(this.state)) {
      sections.push(el('p', { class: 'sup-muted sup-empty' }, `No ${this.state} tickets.`));
    }
    // A change redraws the list: the focus stays on the same ticket's same
    // control when it is still there.
    const focused = document.activeElement;
    const row = focused instanceof HTMLElement && this.groups.contains(focused) ? focused.closest('[data-ticket-id]') : null;
    const control = focused instanceof HTMLElement ? focused.dataset.action ?? 'open' : '';
    this.groups.replaceChildren(...sections);
    if (row) {
      const again = this.groups.querySelector(`[data-ticket-id="${row.getAttribute('data-ticket-id')}"]`);
      /** @type {HTMLElement | null | undefined} */ (again?.querySelector(control === 'open' ? '.sup-ticket-open' : `[data-action="${control}"]`))?.focus();
    }
    this.more.hidden = !this.cursors.get(this.state);
  }

  /**
   * The tickets by their agent, in the order of the counts, then those of
   * agents the counts do not name.
   * @param {Ticket[]} shown
   * @param {{agent: {id: number, name: string} | null, count: number}[]} counts
   */
  byAgent(shown, counts) {
    /** @type {Map<number, {name: string, count: number | null, tickets: Ticket[]}>} by agent id, 0: nobody */
    const groups = new Map();
    for (const g of counts) groups.set(g.agent?.id ?? 0, { name: g.agent?.name ?? '', count: g.count, tickets: [] });
    for (const t of shown) {
      const key = t.assignee?.id ?? 0;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { name: t.assignee?.name ?? '', count: null, tickets: [] }));
      g.tickets.push(t);
    }
    const closed = this.state === 'closed';
    return [...groups].map(([id, g]) => this.group(id ? `agent-${id}` : 'unassigned', id ? g.name : 'Not assigned',
      g.count ?? (closed ? 0 : g.tickets.length), g.tickets, closed ? ' closed today' : ''));
  }

  /**
   * A group: its heading with a count, and its tickets.
   * @param {string} key
   * @param {string} name
   * @param {number} count
   * @param {Ticket[]} tickets
   * @param {string} [countText] what the count counts, for a screen reader
   */
  group(key, name, count, tickets, countText = '') {
    return el('section', { class: 'sup-group', 'data-group': key },
      el('h4', { class: 'sup-ticket-group' }, name, ' ', el('span', { class: 'sup-count' }, String(count)),
        countText ? el('span', { class: 'visually-hidden' }, countText) : null),
      el('ul', { class: 'sup-group-chats sup-tickets' }, ...tickets.map((t) => this.item(t))));
  }

  /** @param {Ticket} t */
  item(t) {
    const open = el('button', { type: 'button', class: 'sup-link sup-ticket-open', 'aria-current': String(this.pane.id === t.id) },
      ticketName(t));
    open.addEventListener('click', () => this.pane.open(t.id));
    const when = t.state === 'closed' && t.closed_at ? `closed ${at(t.closed_at)}` : `updated ${at(t.updated_at)}`;
    return el('li', { class: 'sup-ticket', 'data-ticket-id': t.id, 'data-priority': t.priority },
      el('div', { class: 'sup-ticket-head' }, open,
        t.priority !== 'normal' ? el('span', { class: 'sup-ticket-priority' }, PRIORITY_TEXT[t.priority] ?? t.priority) : null),
      el('p', { class: 'sup-ticket-meta sup-muted' }, [t.customer_name || t.email || 'No customer', t.queue.name, when].join(' · ')),
      el('div', { class: 'sup-ticket-actions' }, ...ticketButtons(this.ctx, this.view, t, (x) => this.changed(x))));
  }
}
