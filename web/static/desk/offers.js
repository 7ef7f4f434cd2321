// @ts-check
// Offers (docs/protocol.md, "Offers and the waiting list"): a card for each
// chat.offer, with who waits, for how long, and the seconds left to answer;
// Accept and Reject. chat.offer_ended takes the card away, in every tab.
// A colleague's invitation or transfer (kind "invite" or "transfer") is a
// card of the same kind saying who asks, with the chat so far one click
// away (chat.resume, which an offered agent may read) and Accept / Decline.
//
// After each hello the desk reads the agent's pending offers (with its
// status) and the waiting list, and a reload keeps the cards in
// sessionStorage meanwhile: only those whose chat the waiting list still
// shows as offered (and whose deadline has not passed) stay.
//
// Those reads race the live events: the router may offer the agent a
// chat (it looks again as soon as the agent connects) after the waiting
// list was read and before its answer came, and an offer may end after
// the pending offers were read. So each card remembers when it last
// changed, counted by mark(), and an answer asked for at an earlier count
// does not undo what an event told since.

import { el, setText } from '../lib/dom.js';
import { duration, errorText, isDisconnected, storageOf } from '../lib/util.js';
import { renderEvent, group } from './render.js';
import { markOffer } from './identity.js';

/**
 * @typedef {import('../lib/types.js').Offer & {kind?: 'route' | 'invite' | 'transfer' | string, by?: {id: number, name: string}}} Offer
 * @typedef {import('../lib/types.js').WithEvents} WithEvents
 * @typedef {import('../lib/types.js').Conversation} Conversation
 * @typedef {import('../lib/util.js').ServerClock} ServerClock
 * @typedef {import('./notices.js').Notices} Notices
 * @typedef {import('./alerts.js').Alerts} Alerts
 *
 * @typedef {object} Card
 * @property {Offer} offer
 * @property {HTMLElement} node
 * @property {HTMLElement} waited
 * @property {HTMLElement} since
 * @property {HTMLElement} left
 * @property {HTMLProgressElement} bar
 * @property {HTMLButtonElement} accept
 * @property {HTMLButtonElement} reject
 * @property {number} total the offer's whole time, in s
 */

const STORE_KEY = 'parley.desk.offers';
const GRACE_MS = 5000; // past the deadline the server ends the offer; if we miss hearing it, the card goes anyway

export class Offers {
  /**
   * @param {object} deps
   * @param {import('../lib/parley.js').Connection} deps.conn
   * @param {HTMLElement} deps.root #offers
   * @param {HTMLElement} deps.empty the "no offers" line
   * @param {ServerClock} deps.clock
   * @param {Notices} deps.notices
   * @param {Alerts} deps.alerts
   * @param {(id: number) => Promise<void>} deps.accept takes the chat (chat.accept) and opens it
   */
  constructor({ conn, root, empty, clock, notices, alerts, accept }) {
    this.conn = conn;
    this.root = root;
    this.empty = empty;
    this.clock = clock;
    this.notices = notices;
    this.alerts = alerts;
    this.acceptChat = accept;
    this.store = storageOf('sessionStorage');
    /** @type {Map<number, Card>} */
    this.cards = new Map();
    /** A count of the changes to the cards (mark). */
    this.changes = 0;
    /** @type {Map<number, number>} conversation → the count when its card was last shown or ended */
    this.changed = new Map();
    for (const offer of this.load()) this.show(offer, false);
  }

  /**
   * The count of changes now, to give add and reconcile with what was
   * read from a request sent after it.
   */
  mark() {
    return this.changes;
  }

  /**
   * Whether chat id's card was shown or ended after count since.
   * @param {number} id
   * @param {number} since
   */
  changedSince(id, since) {
    return (this.changed.get(id) ?? 0) > since;
  }

  /**
   * Notes that chat id's card changed. The notes of the oldest changes go
   * once there are many: no answer is outstanding for that long.
   * @param {number} id
   */
  touch(id) {
    this.changed.delete(id); // to the end of the order
    this.changed.set(id, ++this.changes);
    if (this.changed.size > 200) this.changed.delete(this.changed.keys().next().value ?? id);
  }

  /**
   * A chat.offer event, or (with since) a pending offer read by a request
   * sent at count since: that one is left alone when an event showed or
   * ended its card meanwhile.
   * @param {Offer} offer
   * @param {number} [since]
   */
  add(offer, since) {
    if (since !== undefined && this.changedSince(offer.conversation.id, since)) return;
    const isNew = !this.cards.has(offer.conversation.id);
    this.show(offer, isNew);
    this.save();
    if (isNew) {
      this.alerts.play('offer');
      const c = offer.conversation;
      const within = `accept within ${Math.round(this.clock.until(offer.deadline) / 1000)} s`;
      if (isTeam(offer)) this.alerts.notify(asking(offer), `${c.customer.name} · ${c.queue.name} · ${within}`, `offer-${c.id}`);
      else this.alerts.notify(`New chat from ${c.customer.name}`, `${c.queue.name} · ${within}`, `offer-${c.id}`);
    }
  }

  /**
   * A chat.offer_ended event, or the offer gone some other way.
   * @param {number} id conversation
   */
  end(id) {
    this.touch(id);
    const card = this.cards.get(id);
    if (!card) return;
    const hadFocus = card.node.contains(document.activeElement);
    card.node.remove();
    this.cards.delete(id);
    this.save();
    this.renderEmpty();
    if (hadFocus) {
      const next = this.root.querySelector('.offer-card button') ?? document.getElementById('agent-status');
      if (next instanceof HTMLElement) next.focus();
    }
  }

  /**
   * After a hello, with the waiting list read by a request sent at count
   * since: keeps the cards whose chat still waits as offered, and those
   * shown after since (an offer the list was read too early to show).
   * @param {Conversation[]} waiting
   * @param {number} since
   */
  reconcile(waiting, since) {
    const offered = new Set(waiting.filter((c) => c.state === 'offered').map((c) => c.id));
    for (const [id, card] of [...this.cards]) {
      if (this.changedSince(id, since)) continue;
      // An invitation or transfer is of a chat that is not waiting: it lasts until its deadline.
      if ((!isTeam(card.offer) && !offered.has(id)) || this.clock.until(card.offer.deadline) <= 0) this.end(id);
    }
  }

  /** Every second: the times on the cards. */
  tick() {
    for (const [id, card] of this.cards) {
      const left = this.clock.until(card.offer.deadline);
      if (left <= 0 && this.clock.now() - Date.parse(card.offer.deadline) > GRACE_MS) {
        this.end(id);
        continue;
      }
      this.renderTimes(card);
    }
  }

  /**
   * @param {Offer} offer
   * @param {boolean} fresh
   */
  show(offer, fresh) {
    const c = offer.conversation;
    const old = this.cards.get(c.id);
    const team = isTeam(offer);
    const accept = el('button', { class: 'button button-primary', type: 'button' }, 'Accept');
    const reject = el('button', { class: 'button', type: 'button' }, team ? 'Decline' : 'Reject');
    const waited = el('span', { class: 'offer-waited' });
    const since = el('span', { class: 'offer-since' });
    const left = el('span', { class: 'offer-left' });
    const total = Math.max(1, Math.round((Date.parse(offer.deadline) - Date.parse(offer.offered_at)) / 1000) || 30);
    const bar = el('progress', { class: 'offer-bar', max: total, value: total, 'aria-hidden': 'true' });
    const titleId = `offer-${c.id}-name`;
    const previewId = `offer-${c.id}-preview`;
    const preview = team ? el('div', { class: 'offer-preview', id: previewId, role: 'log', 'aria-label': `The chat with ${c.customer.name} so far`, tabindex: 0, hidden: true }) : null;
    const view = team ? el('button', { class: 'button button-quiet button-small offer-view', type: 'button', 'aria-expanded': 'false', 'aria-controls': previewId }, 'View chat so far') : null;
    const node = el(
      'article',
      {
        class: `offer-card${team ? ` offer-team offer-${offer.kind}` : ''}${fresh ? ' offer-new' : ''}`,
        'data-conversation': c.id,
        'data-kind': offer.kind ?? 'route',
        'aria-labelledby': titleId,
      },
      team ? el('p', { class: 'offer-by' }, asking(offer)) : null,
      el(
        'header',
        { class: 'offer-head' },
        el('h3', { class: 'offer-name', id: titleId }, c.customer.name),
        el('span', { class: 'tag' }, c.queue.name),
      ),
      c.customer.email ? el('p', { class: 'offer-detail offer-email' }, c.customer.email) : null,
      c.customer.extra ? el('p', { class: 'offer-detail offer-extra' }, c.customer.extra) : null,
      el('p', { class: 'offer-times' }, waited, since, left),
      bar,
      view,
      preview,
      el('div', { class: 'offer-buttons' }, reject, accept),
    );
    markOffer(node, c);
    /** @type {Card} */
    const card = { offer, node, waited, since, left, bar, accept, reject, total };
    accept.addEventListener('click', () => void this.accept(card));
    reject.addEventListener('click', () => void this.reject(card));
    if (view && preview) view.addEventListener('click', () => void this.preview(card, view, preview));
    if (old) old.node.replaceWith(node);
    else this.root.append(node);
    this.cards.set(c.id, card);
    this.touch(c.id);
    this.renderTimes(card);
    this.renderEmpty();
  }

  /**
   * Shows or hides the chat so far on an invitation's card.
   * @param {Card} card
   * @param {HTMLButtonElement} button
   * @param {HTMLElement} box
   */
  async preview(card, button, box) {
    const open = button.getAttribute('aria-expanded') === 'true';
    button.setAttribute('aria-expanded', String(!open));
    setText(button, open ? 'View chat so far' : 'Hide chat');
    box.hidden = open;
    if (open || box.dataset.loaded) return;
    const c = card.offer.conversation;
    box.replaceChildren(el('p', { class: 'panel-empty' }, 'Loading…'));
    try {
      const answer = /** @type {WithEvents} */ (await this.conn.request('chat.resume', { conversation_id: c.id, after_seq: 0 }));
      const nodes = [];
      for (const ev of answer.events) {
        const n = renderEvent(ev, answer.conversation);
        if (n) nodes.push(n);
      }
      box.replaceChildren(...nodes);
      for (const n of nodes) group(n);
      if (nodes.length === 0) box.append(el('p', { class: 'panel-empty' }, 'Nothing was said yet.'));
      box.dataset.loaded = 'true';
      box.scrollTop = box.scrollHeight;
    } catch (err) {
      box.replaceChildren(el('p', { class: 'form-error' }, `Could not load the chat: ${errorText(err)}`));
    }
  }

  /** @param {Card} card */
  renderTimes(card) {
    const { offer } = card;
    const team = isTeam(offer);
    setText(card.waited, `${team ? 'Chatting for' : 'Waiting'} ${duration(this.clock.since(offer.conversation.queued_at))}`);
    setText(card.since, `${team ? 'Asked' : 'Offered'} ${duration(this.clock.since(offer.offered_at))} ago`);
    const secs = Math.ceil(this.clock.until(offer.deadline) / 1000);
    setText(card.left, secs > 0 ? `${secs} s left` : 'Time is up');
    card.node.classList.toggle('offer-urgent', secs <= 10);
    card.bar.value = Math.max(0, Math.min(card.total, secs));
  }

  renderEmpty() {
    this.empty.hidden = this.cards.size > 0;
  }

  /** @param {Card} card */
  async accept(card) {
    const id = card.offer.conversation.id;
    card.accept.disabled = card.reject.disabled = true;
    try {
      await this.acceptChat(id);
      this.end(id);
    } catch (err) {
      card.accept.disabled = card.reject.disabled = false;
      this.notices.show(`Could not accept the chat with ${card.offer.conversation.customer.name}: ${errorText(err)}`);
      // A chat taken or closed meanwhile ends its offer (chat.offer_ended);
      // a full desk ("close one first") keeps the card, to reject it.
      if (!isDisconnected(err) && /** @type {{code?: string}} */ (err).code === 'not_found') this.end(id);
    }
  }

  /** @param {Card} card */
  async reject(card) {
    const id = card.offer.conversation.id;
    card.accept.disabled = card.reject.disabled = true;
    try {
      await this.conn.request('chat.reject', { conversation_id: id });
      this.end(id);
    } catch (err) {
      card.accept.disabled = card.reject.disabled = false;
      if (isFinal(err)) this.end(id); // the offer is gone already: nothing to reject
      else this.notices.show(`Could not ${isTeam(card.offer) ? 'decline' : 'reject'} the chat: ${errorText(err)}`);
    }
  }

  /** @returns {Offer[]} */
  load() {
    try {
      const list = JSON.parse(this.store.get(STORE_KEY) ?? '[]');
      if (!Array.isArray(list)) return [];
      return list.filter((o) => o && o.conversation && typeof o.conversation.id === 'number' && this.clock.until(o.deadline) > 0);
    } catch {
      return [];
    }
  }

  save() {
    const list = [...this.cards.values()].map((c) => c.offer);
    if (list.length) this.store.set(STORE_KEY, JSON.stringify(list));
    else this.store.remove(STORE_KEY);
  }
}

/**
 * Whether the request failed for good (the chat was taken, closed, or the
 * offer is gone), not for now.
 * @param {unknown} err
 */
function isFinal(err) {
  const code = /** @type {{code?: string}} */ (err).code;
  return code === 'conflict' || code === 'not_found' || code === 'forbidden';
}

/**
 * Whether a colleague asks (an invitation or a transfer), not the router.
 * @param {Offer} offer
 */
function isTeam(offer) {
  return offer.kind === 'invite' || offer.kind === 'transfer';
}

/**
 * Who asks what, on an invitation's or transfer's card.
 * @param {Offer} offer
 */
function asking(offer) {
  const by = offer.by?.name ?? 'A colleague';
  return offer.kind === 'transfer' ? `${by} transfers this chat to you` : `${by} invites you to this chat`;
}
