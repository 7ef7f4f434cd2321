// @ts-check
// Mentions in the desk (docs/protocol.md, "Comments (staff)"): a colleague
// mentioned the agent in a comment. Each unread mention is a card ("Sam
// mentioned you in the chat with Vera: …", with Open and Mark read), a
// tone, a badge on the chat's tab, and one more in the page title's count.
// They stay unread (on the server) until read: after a reload,
// chat.mentions gives them back; reading one in another tab
// (chat.mention_read) takes it away here too.

import { el } from '../lib/dom.js';
import { errorText } from '../lib/util.js';

/**
 * @typedef {{conversation_id: number, seq: number, customer: string, author: {kind: string, name: string}, text: string, time: string}} MentionNote
 */

export class Mentions {
  /**
   * @param {object} o
   * @param {import('../lib/parley.js').Connection} o.conn
   * @param {HTMLElement} o.root where the cards go
   * @param {import('./notices.js').Notices} o.notices
   * @param {import('./alerts.js').Alerts} o.alerts
   * @param {(id: number) => boolean} o.open shows the chat; false when the desk does not have it
   */
  constructor({ conn, root, notices, alerts, open }) {
    this.conn = conn;
    this.root = root;
    this.notices = notices;
    this.alerts = alerts;
    this.open = open;
    /** @type {Map<string, {note: MentionNote, card: HTMLElement}>} unread, by conversation:seq */
    this.unread = new Map();
    const before = conn.onhello;
    conn.onhello = (hello) => {
      before?.(hello);
      void this.load();
    };
    conn.on('chat.mention', (/** @type {MentionNote} */ n) => this.add(n, true));
    conn.on('chat.mention_read', (/** @type {{conversation_id: number, seq: number}} */ d) => this.drop(d.conversation_id, d.seq));
  }

  /** After every hello: the unread mentions, as the server keeps them. */
  async load() {
    try {
      const { mentions } = /** @type {{mentions: MentionNote[]}} */ (await this.conn.request('chat.mentions'));
      const keep = new Set(mentions.map(key));
      for (const [k, m] of this.unread) if (!keep.has(k)) this.drop(m.note.conversation_id, m.note.seq);
      for (const n of mentions) this.add(n, false);
    } catch {
      // the next hello asks again; live ones still arrive
    }
  }

  /**
   * @param {MentionNote} n
   * @param {boolean} news it just happened: a tone and a notification
   */
  add(n, news) {
    const k = key(n);
    if (this.unread.has(k)) return;
    const who = n.author?.name || 'A colleague';
    const openButton = el('button', { class: 'button button-primary', type: 'button' }, 'Open');
    const readButton = el('button', { class: 'button button-quiet', type: 'button' }, 'Mark read');
    const card = el(
      'article',
      { class: 'mention-card', 'data-conversation': n.conversation_id, 'data-seq': n.seq, 'aria-label': `${who} mentioned you` },
      el('p', { class: 'mention-card-text' }, `${who} mentioned you in the chat with ${n.customer}: ${n.text}`),
      el('div', { class: 'mention-card-actions' }, readButton, openButton),
    );
    openButton.addEventListener('click', () => {
      if (!this.open(n.conversation_id)) this.notices.show(`The chat with ${n.customer} is not open in your desk.`);
      void this.read(n.conversation_id, 0);
    });
    readButton.addEventListener('click', () => void this.read(n.conversation_id, n.seq));
    this.unread.set(k, { note: n, card });
    this.root.append(card);
    this.badges();
    if (news) {
      this.alerts.play('message');
      this.alerts.notify(`${who} mentioned you`, n.text, `mention-${k}`);
    }
  }

  /**
   * Marks mentions read on the server (seq 0: all of the chat's).
   * @param {number} id
   * @param {number} seq
   */
  async read(id, seq) {
    try {
      await this.conn.request('chat.mention_read', { conversation_id: id, seq });
      this.drop(id, seq);
    } catch (err) {
      this.notices.show(`Could not mark the mention read: ${errorText(err)}`);
    }
  }

  /**
   * Takes read mentions away (seq 0: all of the chat's).
   * @param {number} id
   * @param {number} seq
   */
  drop(id, seq) {
    for (const [k, m] of this.unread) {
      if (m.note.conversation_id === id && (seq === 0 || m.note.seq === seq)) {
        m.card.remove();
        this.unread.delete(k);
      }
    }
    this.badges();
  }

  /** Unread mentions, for the page title. */
  count() {
    return this.unread.size;
  }

  /** The badge on each chat tab with unread mentions ("@2"); tabs come and go, so the desk calls this each second too. */
  badges() {
    /** @type {Map<number, number>} */
    const per = new Map();
    for (const { note } of this.unread.values()) per.set(note.conversation_id, (per.get(note.conversation_id) ?? 0) + 1);
    for (const tab of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('#chat-tabs [data-conversation]'))) {
      const n = per.get(Number(tab.dataset.conversation)) ?? 0;
      let badge = /** @type {HTMLElement | null} */ (tab.querySelector('.mention-badge'));
      if (!n) {
        badge?.remove();
        continue;
      }
      if (!badge) badge = tab.appendChild(el('span', { class: 'mention-badge' }));
      const text = `@${n}`;
      if (badge.textContent !== text) badge.textContent = text;
      badge.setAttribute('aria-label', `${n} unread mention${n === 1 ? '' : 's'}`);
    }
  }
}

/** @param {{conversation_id: number, seq: number}} n */
function key(n) {
  return `${n.conversation_id}:${n.seq}`;
}
