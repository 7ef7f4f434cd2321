// @ts-check
// The waiting list (docs/protocol.md, queue.waiting): the chats waiting in
// the agent's queues, oldest first, each with how long it has waited and a
// "Pick up" button (chat.accept). queue.waiting is asked again after every
// hello, since that is what subscribes the connection to queue.entry and
// queue.entry_removed. Supervisors and admins also see an alert for each
// chat the server says has waited past its queue's threshold
// (wait_alert_at), until the chat stops waiting.

import { el, setText } from '../lib/dom.js';
import { duration, errorText, hhmm } from '../lib/util.js';

/**
 * @typedef {import('../lib/types.js').Conversation} Conversation
 * @typedef {import('../lib/util.js').ServerClock} ServerClock
 * @typedef {import('./notices.js').Notices} Notices
 * @typedef {{conv: Conversation, node: HTMLElement, waited: HTMLElement, button: HTMLButtonElement}} Item
 */

export class Waiting {
  /**
   * @param {object} deps
   * @param {import('../lib/parley.js').Connection} deps.conn
   * @param {HTMLElement} deps.root #waiting
   * @param {HTMLElement} deps.empty the "no one is waiting" line
   * @param {HTMLElement} deps.count the count next to the title
   * @param {ServerClock} deps.clock
   * @param {Notices} deps.notices
   * @param {(id: number) => Promise<void>} deps.accept takes the chat (chat.accept) and opens it
   * @param {(queueId: number) => boolean} deps.mayPickUp whether the agent works in the queue
   *   (supervisors see every queue's list, but take chats only from their own)
   * @param {HTMLElement} deps.alertList #wait-alerts
   * @param {() => boolean} deps.supervises whether the signed-in user is told of long waits
   */
  constructor({ conn, root, empty, count, clock, notices, accept, mayPickUp, alertList, supervises }) {
    this.alertList = alertList;
    this.supervises = supervises;
    this.conn = conn;
    this.root = root;
    this.empty = empty;
    this.count = count;
    this.clock = clock;
    this.notices = notices;
    this.acceptChat = accept;
    this.mayPickUp = mayPickUp;
    /** @type {Map<number, Item>} */
    this.items = new Map();
  }

  /**
   * After a hello: the whole list again, and the subscription to changes.
   * @returns {Promise<Conversation[]>}
   */
  async load() {
    const { entries } = /** @type {{entries: Conversation[]}} */ (await this.conn.request('queue.waiting'));
    const keep = new Set(entries.map((c) => c.id));
    for (const id of [...this.items.keys()]) if (!keep.has(id)) this.remove(id);
    for (const c of entries) this.upsert(c);
    return entries;
  }

  /**
   * A queue.entry event: a chat waits, or changed while waiting.
   * @param {Conversation} conv
   */
  upsert(conv) {
    if (conv.state !== 'queued' && conv.state !== 'offered') {
      this.remove(conv.id);
      return;
    }
    const item = this.items.get(conv.id);
    if (item) {
      item.conv = conv;
      this.fill(item);
      this.renderAlerts();
      return;
    }
    const waited = el('span', { class: 'waiting-time' });
    const button = el('button', { class: 'button button-small', type: 'button' }, 'Pick up');
    const node = el('li', { class: 'waiting-item', 'data-conversation': conv.id });
    /** @type {Item} */
    const fresh = { conv, node, waited, button };
    button.addEventListener('click', () => void this.pickUp(fresh));
    this.items.set(conv.id, fresh);
    this.fill(fresh);
    // Oldest first: before the first that started waiting later.
    const at = Date.parse(conv.queued_at);
    const later = [...this.items.values()].find((x) => x !== fresh && Date.parse(x.conv.queued_at) > at);
    this.root.insertBefore(node, later ? later.node : null);
    this.renderCount();
    this.renderAlerts();
  }

  /**
   * A queue.entry_removed event: accepted or closed.
   * @param {number} id
   */
  remove(id) {
    const item = this.items.get(id);
    if (!item) return;
    item.node.remove();
    this.items.delete(id);
    this.renderCount();
    this.renderAlerts();
  }

  /**
   * A queue.access_ended event: the agent left the queue; its chats go.
   * @param {number} queueId
   */
  dropQueue(queueId) {
    for (const item of [...this.items.values()]) {
      if (item.conv.queue.id === queueId) this.remove(item.conv.id);
    }
  }

  /** The agent's queues are known, or changed: the buttons again. */
  refresh() {
    for (const item of this.items.values()) this.fill(item);
    this.renderAlerts();
  }

  /** An alert line for each chat waiting past its queue's threshold, oldest first. */
  renderAlerts() {
    const late = this.supervises() ? [...this.items.values()].filter((x) => x.conv.wait_alert_at) : [];
    late.sort((a, b) => Date.parse(a.conv.queued_at) - Date.parse(b.conv.queued_at));
    this.alertList.replaceChildren(
      ...late.map((x) =>
        el(
          'li',
          { class: 'wait-alert', 'data-conversation': x.conv.id },
          `${x.conv.customer.name} has waited since ${hhmm(x.conv.queued_at)} in ${x.conv.queue.name}, longer than the queue allows`,
        ),
      ),
    );
    this.alertList.hidden = late.length === 0;
  }

  /** Every second: the times waited. */
  tick() {
    for (const item of this.items.values()) this.renderTime(item);
  }

  /** @param {Item} item */
  fill(item) {
    const c = item.conv;
    item.node.replaceChildren(
      el(
        'div',
        { class: 'waiting-main' },
        el('p', { class: 'waiting-name' }, c.customer.name),
        el(
          'p',
          { class: 'waiting-meta' },
          el('span', { class: 'tag' }, c.queue.name),
          item.waited,
          c.state === 'offered' ? el('span', { class: 'waiting-state' }, 'Offered') : null,
        ),
      ),
    );
    item.node.classList.toggle('waiting-item-late', Boolean(c.wait_alert_at));
    if (this.mayPickUp(c.queue.id)) item.node.append(item.button);
    item.button.setAttribute('aria-label', `Pick up the chat with ${c.customer.name}`);
    this.renderTime(item);
  }

  /** @param {Item} item */
  renderTime(item) {
    setText(item.waited, duration(this.clock.since(item.conv.queued_at)));
  }

  renderCount() {
    const n = this.items.size;
    setText(this.count, String(n));
    this.count.hidden = n === 0;
    this.empty.hidden = n > 0;
  }

  /** @param {Item} item */
  async pickUp(item) {
    item.button.disabled = true;
    try {
      await this.acceptChat(item.conv.id);
      this.remove(item.conv.id);
    } catch (err) {
      item.button.disabled = false;
      this.notices.show(`Could not pick up the chat with ${item.conv.customer.name}: ${errorText(err)}`);
    }
  }
}
