// @ts-check
// Invitations to conference rooms (docs/protocol.md, "Rooms"): a card for
// each room.invited, with who invites and to what, Accept and Decline.
// Accept opens the room's page (/external/conference/#NUMBER) in a new tab;
// Decline says room.decline, and the room's creator hears of it.
//
// The protocol has no list of pending invitations, so a reload would lose
// them: the cards are kept in sessionStorage and, after each hello, only
// those whose room has not ended (room.get) come back.

import { el } from '../lib/dom.js';
import { errorText, isDisconnected, spaced, storageOf } from '../lib/util.js';

/**
 * @typedef {object} InvitedRoom
 * @property {string} id
 * @property {string | null} number
 * @property {string} name
 * @property {string | null} [ended_at]
 *
 * @typedef {{room: InvitedRoom, from: {id: number, name: string}, at: number}} Invitation
 *
 * @typedef {object} Card
 * @property {Invitation} invite
 * @property {HTMLElement} node
 * @property {HTMLButtonElement} accept
 * @property {HTMLButtonElement} decline
 */

const STORE_KEY = 'parley.desk.invites';
const KEEP_MS = 4 * 60 * 60 * 1000; // an invitation older than this is stale anyway

/** The conference page of a room. @param {InvitedRoom} room */
export function roomURL(room) {
  return `/external/conference/#${encodeURIComponent(room.number ?? '')}`;
}

export class Invites {
  /**
   * @param {object} deps
   * @param {import('../lib/parley.js').Connection} deps.conn
   * @param {import('./notices.js').Notices} deps.notices
   * @param {import('./alerts.js').Alerts} deps.alerts
   * @param {HTMLElement} [deps.parent] where the "Invitations" panel goes (default: the top of the desk's side column)
   */
  constructor({ conn, notices, alerts, parent }) {
    this.conn = conn;
    this.notices = notices;
    this.alerts = alerts;
    this.store = storageOf('sessionStorage');
    /** @type {Map<string, Card>} by room id */
    this.cards = new Map();

    this.list = el('div', { id: 'invites', class: 'offers invites', 'aria-live': 'assertive' });
    this.panel = el(
      'section',
      { class: 'panel invites-panel', 'aria-labelledby': 'invites-title', hidden: true },
      el('h2', { id: 'invites-title', class: 'panel-title' }, 'Invitations'),
      this.list,
    );
    const home = parent ?? document.querySelector('.desk-side') ?? document.body;
    home.prepend(this.panel);

    for (const invite of this.load()) this.show(invite, false);

    conn.on('room.invited', (/** @type {{room: InvitedRoom, from: {id: number, name: string}}} */ data) => {
      if (!data?.room?.id) return;
      const isNew = !this.cards.has(data.room.id);
      this.show({ room: data.room, from: data.from, at: Date.now() }, isNew);
      this.save();
      if (isNew) {
        this.alerts.play('offer');
        this.alerts.notify(`${data.from?.name ?? 'A colleague'} invites you`, roomTitle(data.room), `invite-${data.room.id}`);
      }
    });
    conn.on('room.ended', (/** @type {{room_id: string}} */ data) => this.remove(data.room_id));
    const prev = conn.onhello;
    conn.onhello = (hello) => {
      prev?.(hello);
      void this.prune();
    };
  }

  /**
   * Shows (or refreshes) the card of an invitation.
   * @param {Invitation} invite
   * @param {boolean} isNew
   */
  show(invite, isNew) {
    const old = this.cards.get(invite.room.id);
    const accept = el('button', { class: 'button button-primary button-small invite-accept', type: 'button' }, 'Accept');
    const decline = el('button', { class: 'button button-small invite-decline', type: 'button' }, 'Decline');
    const node = el(
      'article',
      {
        class: `offer-card invite-card${isNew ? ' offer-new' : ''}`,
        'data-room': invite.room.id,
        'aria-label': `Invitation to ${roomTitle(invite.room)}`,
      },
      el('div', { class: 'offer-head' }, el('p', { class: 'offer-name invite-room' }, roomTitle(invite.room))),
      el('p', { class: 'offer-detail invite-from' }, `${invite.from?.name ?? 'A colleague'} invites you`),
      invite.room.number
        ? el('p', { class: 'offer-detail invite-number' }, 'Video conference · room ', el('span', { class: 'invite-digits' }, spaced(invite.room.number)))
        : null,
      el('div', { class: 'offer-buttons' }, accept, decline),
    );
    accept.addEventListener('click', () => this.accept(invite.room.id));
    decline.addEventListener('click', () => void this.decline(invite.room.id));
    if (old) old.node.replaceWith(node);
    else this.list.prepend(node);
    this.cards.set(invite.room.id, { invite, node, accept, decline });
    this.panel.hidden = false;
  }

  /**
   * Opens the room in a new tab (in this one when the browser blocks it).
   * @param {string} roomId
   */
  accept(roomId) {
    const card = this.cards.get(roomId);
    if (!card) return;
    const url = roomURL(card.invite.room);
    this.remove(roomId);
    const tab = window.open(url, '_blank');
    if (!tab) location.assign(url);
  }

  /** @param {string} roomId */
  async decline(roomId) {
    const card = this.cards.get(roomId);
    if (!card) return;
    card.accept.disabled = card.decline.disabled = true;
    try {
      await this.conn.request('room.decline', { room_id: roomId });
      this.remove(roomId);
    } catch (err) {
      const e = /** @type {{code?: string}} */ (err);
      if (e.code === 'not_found' || e.code === 'conflict') {
        this.remove(roomId); // the room is gone or over: nothing to decline
        return;
      }
      card.accept.disabled = card.decline.disabled = false;
      this.notices.show(`Could not decline the invitation: ${errorText(err)}`);
    }
  }

  /** @param {string} roomId */
  remove(roomId) {
    const card = this.cards.get(roomId);
    if (!card) return;
    card.node.remove();
    this.cards.delete(roomId);
    this.panel.hidden = this.cards.size === 0;
    this.save();
  }

  /** After a hello: drop the invitations whose room has ended meanwhile. */
  async prune() {
    for (const [id, card] of [...this.cards]) {
      if (Date.now() - card.invite.at > KEEP_MS) {
        this.remove(id);
        continue;
      }
      try {
        const { room } = /** @type {{room: InvitedRoom}} */ (await this.conn.request('room.get', { room_id: id }));
        if (room?.ended_at) this.remove(id);
      } catch (err) {
        if (isDisconnected(err)) return; // the next hello tries again
        const code = /** @type {{code?: string}} */ (err).code;
        if (code === 'not_found' || code === 'forbidden') this.remove(id);
      }
    }
  }

  /** @returns {Invitation[]} oldest first */
  load() {
    try {
      const list = JSON.parse(this.store.get(STORE_KEY) ?? '[]');
      if (!Array.isArray(list)) return [];
      return list
        .filter((i) => i?.room?.id && typeof i.at === 'number' && Date.now() - i.at < KEEP_MS)
        .sort((a, b) => a.at - b.at);
    } catch {
      return [];
    }
  }

  save() {
    const list = [...this.cards.values()].map((c) => c.invite);
    if (list.length) this.store.set(STORE_KEY, JSON.stringify(list));
    else this.store.remove(STORE_KEY);
  }
}

/** @param {InvitedRoom} room */
function roomTitle(room) {
  return room.name?.trim() || `Room ${room.number ?? ''}`.trim();
}
