// @ts-check
// The desk's "Team" panel (docs/protocol.md, "Staff"): every colleague
// with their live status (staff.directory, then staff.presence events),
// an unread badge per colleague and their total on the panel's title
// (staff.threads, staff.message, staff.read), and one thread per colleague
// in a dock that opens on a click: messages with author and time, own and
// theirs apart, a compose box with chat's limit (lib/compose-limit.js).
// Enter sends. What is sent while the socket is down waits in the outbox
// of lib/delivery.js (sessionStorage) and goes again after the next hello,
// with the same client_id, which the server stores once.

import { ComposeLimit } from '../lib/compose-limit.js';
import { Delivery } from '../lib/delivery.js';
import { byId, el, setText } from '../lib/dom.js';
import { renderMarkup } from '../lib/markup.js';
import { clock, day, errorText, isDisconnected, newClientId, storageOf } from '../lib/util.js';

/**
 * @typedef {object} Colleague
 * @property {number} id
 * @property {string} name
 * @property {string} role
 * @property {string} status 'available', 'paused' or 'offline'
 * @property {string} reason
 * @property {boolean} online a connection is open
 * @property {number} open_chats
 *
 * @typedef {{id: number, name: string, role?: string}} Person
 *
 * @typedef {object} StaffMessage
 * @property {number} thread_id
 * @property {number} seq
 * @property {Person} author
 * @property {string} text
 * @property {string} client_id
 * @property {string} time
 * @property {Person} [with] on staff.message events: whom the thread is with
 *
 * @typedef {object} StaffThread
 * @property {number} id
 * @property {Person} with
 * @property {number} last_seq
 * @property {number} read_seq
 * @property {number} unread
 * @property {StaffMessage | null} [last_message]
 *
 * @typedef {{client_id: string, text: string}} Outgoing
 *
 * @typedef {object} Thread one colleague's thread, as this tab holds it
 * @property {number} with the colleague's user id
 * @property {number} unread
 * @property {number} readSeq the read mark the server holds, as far as this tab knows
 * @property {boolean} loaded its messages have been read once (staff.resume)
 * @property {boolean} resuming
 * @property {Map<number, StaffMessage>} messages by seq
 * @property {Delivery<Outgoing>} delivery seq order once each, and the outbox
 * @property {Map<string, string>} failed client_id → why it was not delivered
 */

const STATUS_TEXT = /** @type {Record<string, string>} */ ({ available: 'Available', paused: 'Paused', offline: 'Offline' });
const ROLE_TEXT = /** @type {Record<string, string>} */ ({ agent: 'Agent', supervisor: 'Supervisor', admin: 'Admin' });
const RETRY_KEY = 'team-load';

export class Team {
  /**
   * @param {object} deps
   * @param {import('../lib/parley.js').Connection} deps.conn
   * @param {import('./notices.js').Notices} deps.notices
   * @param {import('./alerts.js').Alerts} deps.alerts
   */
  constructor({ conn, notices, alerts }) {
    this.conn = conn;
    this.notices = notices;
    this.alerts = alerts;
    this.store = storageOf('sessionStorage');
    /** @type {Map<number, Colleague>} */
    this.people = new Map();
    /** @type {Map<number, Thread>} by colleague */
    this.threads = new Map();
    /** @type {number | null} the colleague whose thread is open */
    this.openWith = null;
    /** @type {Map<number, HTMLElement>} the list's row of each colleague */
    this.rows = new Map();

    this.list = byId('team-list');
    this.empty = byId('team-empty');
    this.total = byId('team-unread');

    // The thread's dock, made here: the page keeps only the panel.
    this.dockName = el('h2', { id: 'team-thread-title', class: 'team-thread-name' });
    this.dockStatus = el('p', { class: 'team-thread-status' });
    this.closeButton = el('button', { class: 'button button-quiet button-small', type: 'button', 'aria-label': 'Close the conversation' }, 'Close');
    this.log = el('div', { class: 'team-log', role: 'log', 'aria-live': 'polite', 'aria-labelledby': 'team-thread-title', tabindex: 0 });
    this.box = /** @type {HTMLTextAreaElement} */ (
      el('textarea', { id: 'team-compose', name: 'text', rows: 2, placeholder: 'Write to your colleague…', autocomplete: 'off' })
    );
    this.count = el('span', { id: 'team-compose-count', class: 'compose-count', hidden: true });
    this.error = el('p', { id: 'team-compose-error', class: 'compose-error', role: 'alert', hidden: true });
    this.form = el(
      'form',
      { class: 'compose team-compose', novalidate: true },
      el('label', { for: 'team-compose', class: 'visually-hidden' }, 'Message'),
      this.box,
      this.error,
      el(
        'div',
        { class: 'compose-bar' },
        el('p', { class: 'compose-hint' }, 'Enter sends · Shift+Enter for a new line'),
        this.count,
        el('button', { class: 'button button-primary', type: 'submit' }, 'Send'),
      ),
    );
    this.dock = el(
      'section',
      { id: 'team-thread', class: 'team-thread', 'aria-labelledby': 'team-thread-title', hidden: true },
      el('header', { class: 'team-thread-header' }, el('div', { class: 'team-thread-who' }, this.dockName, this.dockStatus), this.closeButton),
      this.log,
      this.form,
    );
    document.body.append(this.dock);
    this.limit = new ComposeLimit(this.box, this.count, this.error);

    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.sendFromBox();
    });
    this.box.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        this.sendFromBox();
      }
    });
    this.closeButton.addEventListener('click', () => this.close());
    this.dock.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.close();
    });
    // Back in view: what arrived meanwhile in the open thread is read now.
    document.addEventListener('visibilitychange', () => {
      if (this.openWith !== null) this.markRead(this.openWith);
    });

    conn.on('staff.presence', (/** @type {{user_id: number, status: string, reason: string, online: boolean}} */ p) => this.presence(p));
    conn.on('staff.message', (/** @type {StaffMessage} */ m) => this.message(m));
    conn.on('staff.read', (/** @type {{with: number, read_seq: number, unread: number}} */ r) => {
      const t = this.threads.get(r.with);
      if (!t) return;
      t.unread = r.unread;
      t.readSeq = Math.max(t.readSeq, r.read_seq);
      this.renderBadges();
    });
    const prevHello = conn.onhello;
    conn.onhello = (hello) => {
      prevHello?.(hello);
      void this.sync(0);
    };
    const prevClose = conn.onclose;
    conn.onclose = (code, reason) => {
      prevClose?.(code, reason);
      for (const t of this.threads.values()) t.delivery.offline();
    };
    // The server's bus may have lost messages or read marks on their way:
    // the counts again, and the loaded threads from what they show.
    conn.on('session.resync', () => void this.sync(0));
  }

  /** My user id (the hello's principal.id is "user:7"). */
  me() {
    const id = this.conn.hello?.principal.id ?? '';
    return id.startsWith('user:') ? Number(id.slice(5)) : 0;
  }

  /**
   * After every hello: the directory, the threads' counts, the open thread
   * again from the last message shown, then what waits in the outboxes.
   * @param {number} attempt
   */
  async sync(attempt) {
    try {
      const [dir, list] = await Promise.all([this.conn.request('staff.directory'), this.conn.request('staff.threads')]);
      this.people = new Map(/** @type {Colleague[]} */ (dir.users).map((u) => [u.id, u]));
      for (const st of /** @type {StaffThread[]} */ (list.threads)) this.thread(st.with.id).unread = st.unread;
      // Outboxes kept from before a reload belong to threads this tab has
      // not made yet.
      for (const id of this.people.keys()) {
        if (this.store.get(outboxKey(id))) this.thread(id);
      }
      this.renderList();
      this.notices.clear(RETRY_KEY);
      const resumes = [];
      for (const t of this.threads.values()) {
        if (t.loaded || t.delivery.items.length || t.with === this.openWith) resumes.push(this.resume(t));
      }
      await Promise.all(resumes);
    } catch (err) {
      if (isDisconnected(err)) return; // the next hello syncs again
      this.notices.show(`Could not load your team: ${errorText(err)} Trying again…`, { key: RETRY_KEY });
      setTimeout(() => {
        if (this.conn.ready) void this.sync(attempt + 1);
      }, Math.min(30000, 1000 * 2 ** attempt));
    }
  }

  /**
   * The thread with a colleague, made empty when this tab has none yet.
   * @param {number} id the colleague's user id
   * @returns {Thread}
   */
  thread(id) {
    let t = this.threads.get(id);
    if (!t) {
      t = {
        with: id,
        unread: 0,
        readSeq: 0,
        loaded: false,
        resuming: false,
        messages: new Map(),
        delivery: new Delivery({
          store: this.store,
          key: outboxKey(id),
          parse: (x) => ({ client_id: x.client_id, text: x.text }),
          holdGaps: true,
        }),
        failed: new Map(),
      };
      this.threads.set(id, t);
    }
    return t;
  }

  /**
   * Reads what came after the last message shown, then sends the outbox.
   * @param {Thread} t
   */
  async resume(t) {
    if (t.resuming) return;
    t.resuming = true;
    try {
      for (;;) {
        const ans = await this.conn.request('staff.resume', { user_id: t.with, after_seq: t.delivery.highest });
        for (const m of /** @type {StaffMessage[]} */ (ans.messages)) this.take(t, m);
        t.unread = ans.thread.unread;
        t.readSeq = ans.thread.read_seq;
        if (!ans.more) break;
      }
      t.loaded = true;
    } finally {
      t.resuming = false;
    }
    this.renderBadges();
    if (t.with === this.openWith) {
      this.renderThread();
      this.markRead(t.with);
    }
    this.flush(t);
  }

  /**
   * A message in seq order, once; held ones that now follow come after it.
   * @param {Thread} t
   * @param {StaffMessage} m
   * @returns {boolean} whether it was new
   */
  take(t, m) {
    if (!t.delivery.apply(/** @type {any} */ (m))) {
      // Past a gap (a message we missed): read what is missing.
      if (m.seq > t.delivery.highest + 1 && t.loaded) void this.resume(t).catch(() => {});
      return false;
    }
    t.messages.set(m.seq, m);
    t.delivery.ack(m.client_id); // ours, sent from this or another tab
    for (let next = t.delivery.next(); next; next = t.delivery.next()) {
      const n = /** @type {StaffMessage} */ (/** @type {unknown} */ (next));
      t.messages.set(n.seq, n);
      t.delivery.ack(n.client_id);
    }
    return true;
  }

  /** @param {StaffMessage} m a staff.message event */
  message(m) {
    const withId = m.with?.id;
    if (!withId) return;
    const t = this.thread(withId);
    const mine = m.author.id === this.me();
    if (!t.loaded && !t.resuming) {
      // Not read yet in this tab: only the count moves.
      if (mine) t.unread = 0;
      else t.unread++;
    } else if (!this.take(t, m)) {
      // Shown already; or, while the thread is being read, held until the
      // messages before it are in.
      return;
    } else if (mine) {
      t.unread = 0;
      t.readSeq = Math.max(t.readSeq, m.seq); // one's own message moves one's mark
    } else if (!this.reading(withId)) {
      t.unread++;
    }
    if (!mine) {
      if (!this.reading(withId)) {
        this.alerts.play('message');
        this.alerts.notify(`${m.author.name} wrote to you`, m.text.slice(0, 140), `staff-${withId}`);
      } else {
        this.markRead(withId);
      }
    }
    if (withId === this.openWith) this.renderThread();
    this.renderBadges();
  }

  /**
   * Whether the person is looking at the thread now.
   * @param {number} withId
   */
  reading(withId) {
    return this.openWith === withId && document.visibilityState === 'visible';
  }

  /** @param {{user_id: number, status: string, reason: string, online: boolean}} p */
  presence(p) {
    const u = this.people.get(p.user_id);
    if (!u) return;
    Object.assign(u, { status: p.status, reason: p.reason, online: p.online });
    this.renderRow(u);
    if (p.user_id === this.openWith) this.renderDockHeader();
  }

  // ---------------------------------------------------------------- thread

  /**
   * Opens the thread with a colleague.
   * @param {number} id
   */
  open(id) {
    const u = this.people.get(id);
    if (!u) return;
    const t = this.thread(id);
    this.openWith = id;
    this.dock.hidden = false;
    this.dock.dataset.with = String(id);
    this.renderDockHeader();
    this.renderThread();
    for (const [uid, row] of this.rows) row.querySelector('button')?.setAttribute('aria-expanded', String(uid === id));
    this.box.focus();
    if (!t.loaded) {
      this.resume(t).catch((err) => {
        if (!isDisconnected(err)) this.notices.show(`Could not open the conversation with ${u.name}: ${errorText(err)}`);
      });
    } else {
      this.markRead(id);
    }
  }

  close() {
    const was = this.openWith;
    this.openWith = null;
    this.dock.hidden = true;
    for (const row of this.rows.values()) row.querySelector('button')?.setAttribute('aria-expanded', 'false');
    if (was !== null) /** @type {HTMLElement | undefined} */ (this.rows.get(was)?.querySelector('button'))?.focus();
  }

  /**
   * Marks everything shown in the thread read, when there is anything to.
   * @param {number} withId
   */
  markRead(withId) {
    const t = this.threads.get(withId);
    if (!t || !t.loaded || !this.reading(withId) || !this.conn.ready) return;
    const seq = t.delivery.highest;
    if (seq <= t.readSeq && !t.unread) return;
    t.unread = 0;
    t.readSeq = seq;
    this.renderBadges();
    this.conn.request('staff.read', { user_id: withId, seq }).then(
      (ans) => {
        t.unread = ans.thread.unread;
        t.readSeq = ans.thread.read_seq;
        this.renderBadges();
      },
      () => {}, // the next hello reads the counts again
    );
  }

  sendFromBox() {
    const withId = this.openWith;
    if (withId === null) return;
    const text = this.box.value.trim();
    if (!text) return;
    if (!this.limit.check()) return;
    const t = this.thread(withId);
    t.delivery.add({ client_id: newClientId('t'), text });
    this.box.value = '';
    this.limit.update();
    this.renderThread(true);
    this.flush(t);
  }

  /**
   * Sends, in order, what the thread's outbox holds, once it is read on
   * this connection.
   * @param {Thread} t
   */
  flush(t) {
    if (!this.conn.ready || !t.loaded) return;
    t.delivery.resend({
      send: (item) => this.conn.request('staff.send', { user_id: t.with, client_id: item.client_id, text: item.text }),
      sent: () => {
        if (t.with === this.openWith) this.renderThread();
      },
      failed: (item, err) => {
        t.failed.set(item.client_id, item.text);
        const name = this.people.get(t.with)?.name ?? 'your colleague';
        this.notices.show(`A message to ${name} was not delivered: ${errorText(err)}`);
        if (t.with === this.openWith) this.renderThread();
      },
      retry: () => this.flush(t),
    });
  }

  // ---------------------------------------------------------------- render

  renderList() {
    const people = [...this.people.values()].sort((a, b) => a.name.localeCompare(b.name));
    this.rows.clear();
    this.list.replaceChildren(
      ...people.map((u) => {
        const button = el('button', { class: 'team-person', type: 'button', 'data-user-id': u.id, 'aria-expanded': String(u.id === this.openWith) });
        button.addEventListener('click', () => this.open(u.id));
        const row = el('li', { class: 'team-row', 'data-user-id': u.id }, button);
        this.rows.set(u.id, row);
        this.renderRow(u);
        return row;
      }),
    );
    this.empty.hidden = people.length > 0;
    this.renderBadges();
  }

  /** @param {Colleague} u */
  renderRow(u) {
    const row = this.rows.get(u.id);
    const button = row?.querySelector('button');
    if (!row || !button) return;
    const unread = this.threads.get(u.id)?.unread ?? 0;
    row.dataset.status = u.status;
    row.dataset.online = String(u.online);
    button.replaceChildren(
      el('span', { class: 'team-dot', 'aria-hidden': 'true' }),
      el(
        'span',
        { class: 'team-who' },
        el('span', { class: 'team-name' }, u.name),
        el('span', { class: 'team-status' }, statusText(u)),
      ),
      el('span', { class: 'count team-badge', hidden: !unread, 'aria-hidden': 'true' }, unread),
    );
    button.setAttribute('aria-label', `${u.name}, ${ROLE_TEXT[u.role] ?? u.role}, ${statusText(u)}${unread ? `, ${unread} unread` : ''}`);
  }

  renderBadges() {
    let total = 0;
    for (const [id, t] of this.threads) if (this.people.has(id)) total += t.unread;
    this.total.hidden = total === 0;
    setText(this.total, String(total));
    this.total.setAttribute('aria-label', `${total} unread`);
    for (const u of this.people.values()) this.renderRow(u);
  }

  /** The number of unread staff messages, for the page's title. */
  unreadCount() {
    let total = 0;
    for (const t of this.threads.values()) total += t.unread;
    return total;
  }

  renderDockHeader() {
    const u = this.openWith === null ? null : this.people.get(this.openWith);
    if (!u) return;
    setText(this.dockName, u.name);
    setText(this.dockStatus, `${ROLE_TEXT[u.role] ?? u.role} · ${statusText(u)}`);
    this.dock.dataset.status = u.status;
    this.dock.dataset.online = String(u.online);
  }

  /** @param {boolean} [toEnd] scroll to the newest whatever the reader was looking at */
  renderThread(toEnd = false) {
    if (this.openWith === null) return;
    const t = this.thread(this.openWith);
    const atEnd = toEnd || this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 48;
    const me = this.me();
    /** @type {HTMLElement[]} */
    const nodes = [];
    let lastDay = '';
    for (const m of [...t.messages.values()].sort((a, b) => a.seq - b.seq)) {
      const d = day(m.time);
      if (d !== lastDay) {
        nodes.push(el('p', { class: 'divider' }, d));
        lastDay = d;
      }
      nodes.push(renderMessage(m.author.id === me, m.author.name, m.text, clock(m.time), 'sent'));
    }
    for (const item of t.delivery.items) nodes.push(renderMessage(true, 'You', item.text, '', 'pending'));
    for (const [, text] of t.failed) nodes.push(renderMessage(true, 'You', text, '', 'failed'));
    if (!nodes.length) {
      const name = this.people.get(this.openWith)?.name ?? 'your colleague';
      nodes.push(el('p', { class: 'team-log-empty' }, t.loaded ? `No messages with ${name} yet.` : 'Loading…'));
    }
    this.log.replaceChildren(...nodes);
    if (atEnd) this.log.scrollTop = this.log.scrollHeight;
  }
}

/** @param {number} id */
function outboxKey(id) {
  return `parley.desk.team.outbox.${id}`;
}

/**
 * The status a colleague set ("Available", "Paused: Lunch", "Offline") and
 * whether a tab of theirs is open ("online", or "desk open" for someone
 * Offline who still has it open; "not connected" when none is).
 * @param {Colleague} u
 */
function statusText(u) {
  let s = STATUS_TEXT[u.status] ?? u.status;
  if (u.status === 'paused' && u.reason) s += `: ${u.reason === 'missed offer' ? 'Missed an offer' : u.reason}`;
  if (!u.online) return `${s} · not connected`;
  return u.status === 'offline' ? `${s} · desk open` : `${s} · online`;
}

/**
 * @param {boolean} own
 * @param {string} author
 * @param {string} text
 * @param {string} time
 * @param {'sent' | 'pending' | 'failed'} state
 */
function renderMessage(own, author, text, time, state) {
  const meta = el('p', { class: 'msg-meta' }, el('span', { class: 'msg-author' }, own ? 'You' : author));
  if (time) meta.append(' ', el('time', { class: 'msg-time' }, time));
  if (state === 'pending') meta.append(' ', el('span', { class: 'msg-state' }, 'Sending…'));
  if (state === 'failed') meta.append(' ', el('span', { class: 'msg-state' }, 'Not delivered'));
  return el(
    'div',
    { class: `msg team-msg ${own ? 'team-msg-own' : 'team-msg-theirs'} ${state === 'sent' ? '' : state}`.trim(), 'data-state': state },
    meta,
    el('p', { class: 'msg-text' }, renderMarkup(text)),
  );
}
