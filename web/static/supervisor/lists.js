// @ts-check
// The lists: Chats (open, under "Waiting" and by agent, with a count
// each), Closed (a day's, by agent, pageable to earlier days) and
// Tickets (unassigned, assigned and closed, by agent: tickets.js).

import { el, setText } from '../lib/dom.js';
import { clock, errorText } from '../lib/util.js';
import { ticking } from './floor.js';
import { chatChip } from './agents.js';
import { TicketsList } from './tickets.js';

/** @typedef {import('./floor.js').FloorView} FloorView */

/**
 * @typedef {object} ClosedChat
 * @property {number} conversation_id
 * @property {number} queue_id
 * @property {string} queue_name
 * @property {string} customer_name
 * @property {string} customer_email
 * @property {number | null} agent_id
 * @property {string} agent_name
 * @property {string} queued_at
 * @property {string | null} accepted_at
 * @property {string} closed_at
 * @property {string} closed_by
 * @property {string} close_status
 */

/**
 * @typedef {object} ClosedPage
 * @property {string} day
 * @property {ClosedChat[]} chats
 * @property {{agent_id: number | null, agent_name: string, count: number}[]} agents
 * @property {number} [next_before]
 */

/** The lists and their tabs. */
export class Lists {
  /**
   * @param {import('./types.js').Ctx} ctx
   * @param {HTMLElement} root
   * @param {FloorView} view
   * @param {(id: number) => void} chooseAgent
   */
  constructor(ctx, root, view, chooseAgent) {
    this.ctx = ctx;
    this.view = view;
    this.chooseAgent = chooseAgent;
    /** @type {ClosedChat[]} the day's closed chats loaded so far */
    this.closed = [];
    /** @type {ClosedPage['agents']} the day's counts by agent */
    this.closedCounts = [];
    /** @type {Record<string, {button: HTMLButtonElement, panel: HTMLElement}>} */
    this.tabs = {};
    const bar = el('div', { class: 'sup-list-tabs', role: 'group', 'aria-label': 'Lists' });
    const panels = el('div', {});
    for (const [name, label] of [['chats', 'Chats'], ['closed', 'Closed'], ['tickets', 'Tickets']]) {
      const button = el('button', { type: 'button', class: 'sup-tab', 'aria-pressed': String(name === 'chats'),
        id: `list-${name}` }, label);
      const panel = el('div', { class: 'sup-list', id: `list-${name}-panel`, 'aria-labelledby': `list-${name}` });
      panel.hidden = name !== 'chats';
      button.addEventListener('click', () => this.show(name));
      bar.append(button);
      panels.append(panel);
      this.tabs[name] = { button, panel };
    }
    this.tickets = new TicketsList(ctx, this.tabs.tickets.panel, view);
    this.day = el('input', { type: 'date', id: 'closed-day' });
    this.closedList = el('div', { id: 'closed-list', 'aria-live': 'polite' });
    const earlier = el('button', { type: 'button', class: 'button button-quiet' }, 'Earlier day');
    const later = el('button', { type: 'button', class: 'button button-quiet' }, 'Later day');
    earlier.addEventListener('click', () => this.shiftDay(-1));
    later.addEventListener('click', () => this.shiftDay(1));
    this.day.addEventListener('change', () => void this.loadClosed());
    this.tabs.closed.panel.append(el('div', { class: 'sup-closed-bar' },
      el('label', { for: 'closed-day' }, 'Day '), this.day, earlier, later), this.closedList);
    root.replaceChildren(bar, panels);
  }

  /** @param {string} name */
  show(name) {
    for (const [n, t] of Object.entries(this.tabs)) {
      t.button.setAttribute('aria-pressed', String(n === name));
      t.panel.hidden = n !== name;
    }
    if (name === 'closed') void this.loadClosed();
    if (name === 'tickets') this.tickets.shown();
  }

  /** Renders the open chats of the last snapshot. */
  render() {
    const snap = this.view.snap;
    if (!snap) return;
    if (!this.day.value) this.day.value = snap.day;
    const groups = [];
    const waiting = el('ul', { class: 'sup-group-chats' });
    for (const w of snap.waiting) {
      const open = el('button', { type: 'button', class: 'sup-chip', 'data-conversation-id': w.conversation_id },
        el('span', { class: 'sup-chip-name' }, w.name), ' ', ticking(el('span', {}), w.queued_at));
      open.addEventListener('click', () => this.ctx.openChat(w.conversation_id));
      waiting.append(el('li', {}, open, el('span', { class: 'sup-muted' }, ` ${this.view.queues.get(w.queue_id)?.name ?? ''}`)));
    }
    groups.push(el('section', { class: 'sup-group', 'data-group': 'waiting' },
      el('h3', {}, 'Waiting ', el('span', { class: 'sup-count' }, String(snap.total.waiting))),
      snap.waiting.length ? waiting : el('p', { class: 'sup-muted' }, 'Nobody is waiting.')));
    for (const a of snap.agents) {
      if (!a.chats.length) continue;
      const name = el('button', { type: 'button', class: 'sup-link' }, a.name);
      name.addEventListener('click', () => this.chooseAgent(a.id));
      groups.push(el('section', { class: 'sup-group', 'data-group': `agent-${a.id}` },
        el('h3', {}, name, ' ', el('span', { class: 'sup-count' }, String(a.chats.length))),
        el('ul', { class: 'sup-group-chats' }, ...a.chats.map((c) => el('li', {}, chatChip(this.ctx, this.view, c))))));
    }
    this.tabs.chats.panel.replaceChildren(...groups);
  }

  /** @param {number} days */
  shiftDay(days) {
    const d = new Date(`${this.day.value || this.view.snap?.day}T12:00:00Z`);
    if (Number.isNaN(d.getTime())) return;
    d.setUTCDate(d.getUTCDate() + days);
    this.day.value = d.toISOString().slice(0, 10);
    void this.loadClosed();
  }

  /**
   * Loads the chosen day's closed chats (the first page, or the one
   * before `before`, appended).
   * @param {number} [before]
   */
  async loadClosed(before) {
    /** @type {ClosedPage} */
    let page;
    const day = this.day.value;
    try {
      page = /** @type {ClosedPage} */ (await this.ctx.conn.request('supervisor.closed',
        before ? { day, before } : { day }));
    } catch (err) {
      this.closedList.replaceChildren(el('p', { role: 'alert' }, `Could not load the closed chats: ${errorText(err)}`));
      return;
    }
    if (this.day.value !== day) return; // another day was chosen meanwhile
    if (!before) {
      this.closed = [];
      this.closedCounts = page.agents;
    }
    this.closed = [...this.closed, ...page.chats];
    /** @type {Map<number, ClosedChat[]>} */
    const byAgent = new Map();
    for (const c of this.closed) {
      const key = c.agent_id ?? 0;
      const list = byAgent.get(key) ?? [];
      list.push(c);
      byAgent.set(key, list);
    }
    const sections = [];
    for (const a of this.closedCounts) {
      const chats = byAgent.get(a.agent_id ?? 0) ?? [];
      sections.push(el('section', { class: 'sup-group', 'data-group': a.agent_id ? `agent-${a.agent_id}` : 'unanswered' },
        el('h3', {}, a.agent_id ? a.agent_name : 'Not answered', ' ', el('span', { class: 'sup-count' }, String(a.count))),
        el('ul', { class: 'sup-group-chats' }, ...chats.map((c) => {
          const open = el('button', { type: 'button', class: 'sup-chip', 'data-conversation-id': c.conversation_id },
            el('span', { class: 'sup-chip-name' }, c.customer_name), ` ${clock(c.closed_at)}`);
          open.addEventListener('click', () => this.ctx.openChat(c.conversation_id));
          return el('li', {}, open, el('span', { class: 'sup-muted' },
            ` ${c.queue_name}${c.close_status ? ` · ${c.close_status}` : ''}`));
        }))));
    }
    if (!sections.length) sections.push(el('p', { class: 'sup-muted' }, `No chats closed on ${page.day}.`));
    if (page.next_before) {
      const more = el('button', { type: 'button', class: 'button button-quiet' }, 'Show more');
      const next = page.next_before;
      more.addEventListener('click', () => {
        setText(more, 'Loading…');
        void this.loadClosed(next);
      });
      sections.push(more);
    }
    this.closedList.replaceChildren(...sections);
  }
}
