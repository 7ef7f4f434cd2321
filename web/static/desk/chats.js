// @ts-check
// The agent's chats: a tab for each, and the pane of the active one with
// its header, transcript, typing line and compose box; the close dialog.
// After every hello, chat.mine says which chats are the agent's, and each
// open tab is resumed from the highest seq it shows. On session.resync,
// and every 15 seconds, the position check (../lib/position.js) finds a
// tab whose last events were lost on the way and resumes it.

import { byId, el, setText } from '../lib/dom.js';
import { ChatSession } from './chat.js';
import { ComposeLimit } from '../lib/compose-limit.js';
import { EmojiPicker } from '../lib/emoji.js';
import { PrivateToggle } from './private.js';
import { CannedMenu } from './canned.js';
import { OptionsComposer } from './options.js';
import { deskAttachments } from './attach.js';
import { errorText, storageOf } from '../lib/util.js';
import { followPositions } from '../lib/position.js';
import { markVerified } from './identity.js';

/**
 * @typedef {import('../lib/types.js').Conversation} Conversation
 * @typedef {import('../lib/types.js').ChatEvent} ChatEvent
 * @typedef {import('../lib/types.js').WithEvents} WithEvents
 * @typedef {import('./notices.js').Notices} Notices
 * @typedef {import('./alerts.js').Alerts} Alerts
 * @typedef {import('./status.js').StatusControl} StatusControl
 * @typedef {{tab: HTMLButtonElement, name: HTMLElement, state: HTMLElement, badge: HTMLElement}} TabParts
 */

const ACTIVE_KEY = 'parley.desk.active';

export class Chats {
  /**
   * @param {object} deps
   * @param {import('../lib/parley.js').Connection} deps.conn
   * @param {Notices} deps.notices
   * @param {Alerts} deps.alerts
   * @param {StatusControl} deps.status
   */
  constructor({ conn, notices, alerts, status }) {
    this.conn = conn;
    this.notices = notices;
    this.alerts = alerts;
    this.status = status;
    this.store = storageOf('sessionStorage');
    /** @type {Map<number, ChatSession>} in tab order */
    this.sessions = new Map();
    /** @type {Map<number, TabParts>} */
    this.tabs = new Map();
    /** @type {ChatSession | null} */
    this.active = null;
    /** @type {Set<number>} chats this tab is accepting right now */
    this.accepting = new Set();

    /** @type {import('./chat.js').Host} */
    this.host = {
      conn,
      store: this.store,
      myName: () => conn.hello?.principal.name ?? 'You',
      changed: (chat) => this.changed(chat),
      customerWrote: (chat) => this.customerWrote(chat),
      error: (message) => notices.show(message),
      shown: (chat, ev, news) => this.onshown?.(chat, ev, news),
    };

    this.tabList = byId('chat-tabs');
    this.empty = byId('chat-empty');
    this.view = byId('chat-view');
    this.name = byId('chat-name');
    this.presence = byId('chat-presence');
    this.queue = byId('chat-queue');
    this.email = byId('chat-email');
    this.extra = byId('chat-extra');
    this.olderButton = /** @type {HTMLButtonElement} */ (byId('load-older'));
    this.closeButton = /** @type {HTMLButtonElement} */ (byId('close-chat'));
    this.slot = byId('transcript-slot');
    this.typingLine = byId('typing');
    this.composeForm = /** @type {HTMLFormElement} */ (byId('compose-form'));
    this.compose = /** @type {HTMLTextAreaElement} */ (byId('compose'));
    this.limit = new ComposeLimit(this.compose, byId('compose-count'), byId('compose-error'));
    byId('private-toggle').after(new EmojiPicker(this.compose).root);
    this.privateNote = new PrivateToggle((on) => this.active?.setPrivate(on));
    this.canned = new CannedMenu({ conn, compose: this.compose, form: this.composeForm, queueOf: () => this.active?.conv.queue.id ?? null });
    this.options = new OptionsComposer({
      conn,
      compose: this.compose,
      active: () => this.active,
      sent: () => {
        this.compose.value = '';
        this.limit.update();
        if (this.active) this.active.draft = '';
      },
    });
    this.attachments = deskAttachments(this.composeForm, () => (this.active && !this.active.closed ? this.active.id : null));
    this.closedBar = byId('chat-closed');
    this.closedDetail = byId('chat-closed-detail');
    this.dismissButton = /** @type {HTMLButtonElement} */ (byId('dismiss-chat'));
    this.wrapUpButton = /** @type {HTMLButtonElement} */ (byId('wrap-up-chat'));

    this.dialog = /** @type {HTMLDialogElement} */ (byId('close-dialog'));
    this.dialogForm = /** @type {HTMLFormElement} */ (byId('close-form'));
    this.dialogTitle = byId('close-title');
    this.statusList = byId('close-statuses');
    this.dialogWarning = byId('close-warning');
    this.dialogError = byId('close-error');
    this.dialogConfirm = /** @type {HTMLButtonElement} */ (byId('close-confirm'));
    /** @type {ChatSession | null} the chat the dialog closes */
    this.closing = null;
    /** @type {((s: ChatSession | null) => void) | null} after the pane is drawn: the room buttons (desk/room.js) */
    this.onpane = null;
    /** @type {((s: ChatSession, ev: ChatEvent, news: boolean) => void) | null} after each event shown (desk/team-actions.js) */
    this.onshown = null;

    this.wire();
    // Every tab loaded and still the agent's, closed ones too: the lost
    // event may be the one that closed it.
    followPositions(
      conn,
      () => new Map([...this.sessions.values()].filter((s) => s.loaded && !s.gone).map((s) => [s.id, s.highest])),
      (id) => this.sessions.get(id)?.fillGap(),
    );
  }

  // ---------------------------------------------------------- from the wire

  /** After every hello: the agent's chats, each resumed; then the outboxes go. */
  async sync() {
    const { conversations } = /** @type {{conversations: Conversation[]}} */ (await this.conn.request('chat.mine'));
    for (const c of conversations) this.open(c);
    if (!this.active) {
      const remembered = Number(this.store.get(ACTIVE_KEY));
      const first = this.sessions.get(remembered) ?? this.sessions.values().next().value;
      if (first) this.activate(first, false);
    }
    const open = [...this.sessions.values()].filter((s) => !s.gone && !(s.closed && s.loaded));
    const results = await Promise.allSettled(open.map((s) => s.resume()));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw /** @type {PromiseRejectedResult} */ (failed).reason;
  }

  /** The socket closed. */
  offline() {
    for (const s of this.sessions.values()) s.offline();
  }

  /** @param {ChatEvent} ev a chat.event */
  event(ev) {
    this.sessions.get(ev.conversation_id)?.receive(ev);
  }

  /** @param {{conversation_id: number, author?: {kind: string, name: string}, typing: boolean}} data */
  typing(data) {
    if (data.author?.kind !== 'customer') return;
    this.sessions.get(data.conversation_id)?.customerTyping(data.author.name, data.typing);
  }

  /** @param {{conversation_id: number, customer_online: boolean}} data */
  presenceChanged(data) {
    this.sessions.get(data.conversation_id)?.setOnline(data.customer_online);
  }

  /**
   * Takes a chat (an offer, or from the waiting list) and makes its tab
   * active. Fails as chat.accept does.
   * @param {number} id
   */
  async accept(id) {
    this.accepting.add(id);
    try {
      const answer = /** @type {WithEvents} */ (await this.conn.request('chat.accept', { conversation_id: id }));
      const s = this.open(answer.conversation);
      this.activate(s, true);
      s.accepted(answer).catch((err) => this.notices.show(`Could not load the chat: ${errorText(err)}`));
    } finally {
      this.accepting.delete(id);
    }
  }

  /**
   * The agent took a chat in another tab of the desk (chat.offer_ended,
   * reason accepted): it opens here too, in the background.
   * @param {number} id
   */
  adopt(id) {
    if (this.sessions.has(id) || this.accepting.has(id)) return;
    this.conn.request('chat.resume', { conversation_id: id, after_seq: 0 }).then(
      (/** @type {WithEvents} */ answer) => {
        if (this.sessions.has(id) || answer.conversation.state !== 'active') return;
        const s = this.open(answer.conversation);
        for (const ev of answer.events) s.receive(ev);
        s.loaded = true;
        s.synced = true;
        if (!this.active) this.activate(s, false);
      },
      () => {}, // not ours after all, or gone: nothing to show
    );
  }

  // ------------------------------------------------------------------ tabs

  /**
   * The chat's tab, made if there is none.
   * @param {Conversation} conv
   */
  open(conv) {
    let s = this.sessions.get(conv.id);
    if (s) {
      s.update(conv);
      return s;
    }
    s = new ChatSession(conv, this.host);
    this.sessions.set(conv.id, s);
    const name = el('span', { class: 'chat-tab-name' });
    const state = el('span', { class: 'chat-tab-state' });
    const badge = el('span', { class: 'unread', hidden: true });
    const tab = el(
      'button',
      { class: 'chat-tab', type: 'button', role: 'tab', id: `tab-${conv.id}`, 'aria-selected': 'false', 'aria-controls': 'chat-pane', tabindex: -1, 'data-conversation': conv.id },
      el('span', { class: 'presence-dot', 'aria-hidden': 'true' }),
      name,
      state,
      badge,
    );
    const chat = s;
    tab.addEventListener('click', () => this.activate(chat, true));
    this.tabs.set(conv.id, { tab, name, state, badge });
    this.tabList.append(tab);
    this.renderTab(s);
    this.countOpen();
    return s;
  }

  /**
   * @param {ChatSession} s
   * @param {boolean} focusCompose
   */
  activate(s, focusCompose) {
    const before = this.active;
    if (before && before !== s) {
      before.draft = this.compose.value;
      before.log.removeAttribute('id');
    }
    this.active = s;
    this.store.set(ACTIVE_KEY, String(s.id));
    s.unread = 0;
    for (const [id, parts] of this.tabs) {
      const on = id === s.id;
      parts.tab.setAttribute('aria-selected', String(on));
      parts.tab.tabIndex = on ? 0 : -1;
    }
    this.byId(s.id)?.tab.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    if (before !== s) {
      s.log.id = 'transcript';
      this.slot.replaceChildren(s.log);
      s.attached();
      this.compose.value = s.draft;
      this.attachments.clear();
      this.limit.update();
      this.privateNote.show(s.privateNote);
    }
    byId('chat-pane').setAttribute('aria-labelledby', `tab-${s.id}`);
    this.renderTab(s);
    this.renderPane();
    if (focusCompose && !s.closed) this.compose.focus();
  }

  /**
   * A chat.access_ended event: the agent may no longer read the chat (its
   * offer ended, or another agent has it); its tab goes, if it has one.
   * @param {number} id
   */
  lost(id) {
    const s = this.sessions.get(id);
    if (s) this.dismiss(s);
  }

  /** @param {ChatSession} s */
  dismiss(s) {
    const parts = this.tabs.get(s.id);
    const order = [...this.sessions.keys()];
    const at = order.indexOf(s.id);
    s.forget();
    parts?.tab.remove();
    this.tabs.delete(s.id);
    this.sessions.delete(s.id);
    if (this.active === s) {
      this.active = null;
      this.slot.replaceChildren();
      const next = this.sessions.get(order[at + 1]) ?? this.sessions.get(order[at - 1]);
      if (next) this.activate(next, false);
      else this.store.remove(ACTIVE_KEY);
    }
    this.renderPane();
    this.countOpen();
    (this.active ? this.byId(this.active.id)?.tab : document.getElementById('agent-status'))?.focus();
  }

  /** @param {number} id */
  byId(id) {
    return this.tabs.get(id);
  }

  /** @param {ChatSession} s */
  changed(s) {
    this.renderTab(s);
    if (s === this.active) this.renderPane();
    this.countOpen();
  }

  /** @param {ChatSession} s */
  customerWrote(s) {
    const away = document.visibilityState !== 'visible';
    if (s !== this.active) {
      s.unread++;
      this.renderTab(s);
    }
    if (s !== this.active || away) {
      this.alerts.play('message');
      this.alerts.notify(`${s.conv.customer.name} wrote`, 'A new message in your chat', `chat-${s.id}`);
    }
  }

  /** Unread customer messages in all tabs. */
  unreadCount() {
    let n = 0;
    for (const s of this.sessions.values()) n += s.unread;
    return n;
  }

  /** Open chats and chats to wrap up: both hold one of the agent's places. */
  countOpen() {
    this.status.setOpenChats([...this.sessions.values()].filter((s) => !s.closed || s.wrapUpDue).length);
  }

  /** @param {ChatSession} s */
  renderTab(s) {
    const parts = this.tabs.get(s.id);
    if (!parts) return;
    setText(parts.name, s.conv.customer.name);
    setText(parts.state, s.wrapUpDue ? 'Wrap up' : s.closed ? 'Chat closed' : '');
    parts.state.hidden = !s.closed;
    parts.tab.dataset.online = String(!s.closed && s.conv.customer.online === true);
    parts.tab.classList.toggle('chat-tab-closed', s.closed);
    parts.tab.classList.toggle('chat-tab-wrap-up', s.wrapUpDue);
    setText(parts.badge, s.unread > 99 ? '99+' : String(s.unread));
    parts.badge.hidden = s.unread === 0;
    parts.badge.setAttribute('aria-label', `${s.unread} unread`);
  }

  // ------------------------------------------------------------------ pane

  renderPane() {
    const s = this.active;
    this.empty.hidden = s !== null;
    this.view.hidden = s === null;
    this.onpane?.(s);
    if (!s) return;
    const c = s.conv;
    setText(this.name, c.customer.name);
    // Presence is told only while the chat is open.
    const online = !s.closed && c.customer.online === true;
    this.presence.dataset.online = String(online);
    setText(this.presence, s.wrapUpDue ? 'Left the chat' : s.closed ? 'Chat closed' : online ? 'Online' : 'Left the chat');
    setText(this.queue, c.queue.name);
    setText(this.email, c.customer.email);
    this.email.hidden = !c.customer.email;
    setText(this.extra, c.customer.extra);
    this.extra.hidden = !c.customer.extra;
    markVerified(c, this.name, this.email);
    this.olderButton.hidden = !s.history.more;
    this.olderButton.disabled = s.history.loading;
    setText(this.olderButton, s.history.loading ? 'Loading…' : 'Load older messages');
    this.closeButton.hidden = s.closed;
    this.composeForm.hidden = s.closed;
    this.closedBar.hidden = !s.closed;
    this.closedBar.classList.toggle('chat-closed-wrap-up', s.wrapUpDue);
    setText(
      this.closedDetail,
      !s.closed
        ? ''
        : s.wrapUpDue
          ? `· ${c.customer.name} left the chat. Choose a status to wrap it up.`
          : c.close_status
            ? `· ${c.close_status}`
            : c.closed_by === 'customer'
              ? `· ${c.customer.name} ended it`
              : '',
    );
    this.wrapUpButton.hidden = !s.wrapUpDue;
    this.dismissButton.hidden = s.wrapUpDue;
    // A close the agent was choosing a status for becomes the wrap-up.
    if (s.closed && !s.wrapUpDue && this.dialog.open && this.closing === s) this.dialog.close('closed');
    if (s.wrapUpDue && this.dialog.open && this.closing === s) {
      setText(this.dialogTitle, `Wrap up the chat with ${c.customer.name}`);
      setText(this.dialogConfirm, 'Wrap up');
      this.dialogWarning.hidden = true;
    }
    if (s.typingName) {
      setText(this.typingLine, `${s.typingName} is typing…`);
      this.typingLine.hidden = false;
    } else {
      this.typingLine.hidden = true;
      setText(this.typingLine, '');
    }
    if (s.closed && document.activeElement === this.compose) (s.wrapUpDue ? this.wrapUpButton : this.dismissButton).focus();
  }

  // --------------------------------------------------------------- compose

  sendFromCompose() {
    const s = this.active;
    if (!s || s.closed) return;
    const text = this.compose.value.trim();
    const blocked = this.attachments.blocked();
    if (blocked) {
      setText(this.limit.error, blocked);
      this.limit.error.hidden = false;
      return;
    }
    const files = this.attachments.refs();
    if ((!text && files.length === 0) || !this.limit.check()) return;
    this.compose.value = '';
    this.limit.update();
    s.draft = '';
    this.attachments.clear();
    s.send(text, s.privateNote, files);
    this.compose.focus();
  }

  // ----------------------------------------------------------------- close

  /** The close dialog: a status for closing the chat, or for wrapping up one the customer ended. */
  openCloseDialog() {
    const s = this.active;
    if (!s || (s.closed && !s.wrapUpDue)) return;
    this.closing = s;
    const statuses = this.status.statusesOf(s.conv.queue.id) ?? [];
    setText(this.dialogTitle, s.wrapUpDue ? `Wrap up the chat with ${s.conv.customer.name}` : `Close the chat with ${s.conv.customer.name}`);
    setText(this.dialogConfirm, s.wrapUpDue ? 'Wrap up' : 'Close chat');
    const legend = el('legend', {}, 'How did it end?');
    this.statusList.replaceChildren(
      legend,
      ...statuses.map((st) =>
        el('label', { class: 'choice' }, el('input', { type: 'radio', name: 'status', value: st, required: true }), ` ${st}`),
      ),
    );
    this.statusList.hidden = statuses.length === 0;
    this.dialogWarning.hidden = s.closed || s.conv.customer.online !== true;
    this.dialogError.hidden = true;
    this.dialogConfirm.disabled = false;
    this.dialog.returnValue = '';
    this.dialog.showModal();
    const first = /** @type {HTMLInputElement | null} */ (this.statusList.querySelector('input'));
    (first ?? this.dialogConfirm).focus();
  }

  async confirmClose() {
    const s = this.closing;
    if (!s) return;
    const radios = /** @type {HTMLInputElement[]} */ ([...this.statusList.querySelectorAll('input[name="status"]')]);
    const chosen = radios.find((r) => r.checked);
    if (radios.length && !chosen) {
      this.dialogFail('Choose how the chat ended.');
      radios[0].focus();
      return;
    }
    this.dialogConfirm.disabled = true;
    try {
      await this.conn.request('chat.close', { conversation_id: s.id, status: chosen?.value ?? '' });
      this.dialog.close('closed'); // the closed (or wrapped_up) event says the rest
    } catch (err) {
      this.dialogConfirm.disabled = false;
      if (/** @type {{code?: string}} */ (err).code === 'conflict') {
        this.dialog.close('closed'); // it had ended already; its event comes (or came)
        s.fillGap();
        return;
      }
      this.dialogFail(`Could not close the chat: ${errorText(err)}`);
    }
  }

  /** @param {string} message */
  dialogFail(message) {
    setText(this.dialogError, message);
    this.dialogError.hidden = false;
  }

  // ------------------------------------------------------------------ wire

  wire() {
    this.composeForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.sendFromCompose();
    });
    this.compose.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        this.sendFromCompose();
      }
    });
    this.compose.addEventListener('input', () => {
      const s = this.active;
      if (!s) return;
      s.draft = this.compose.value;
      s.typingInput(this.compose.value.trim() !== '');
    });
    this.olderButton.addEventListener('click', () => void this.active?.loadOlder());
    this.closeButton.addEventListener('click', () => this.openCloseDialog());
    this.wrapUpButton.addEventListener('click', () => this.openCloseDialog());
    this.dismissButton.addEventListener('click', () => {
      if (this.active) this.dismiss(this.active);
    });
    byId('close-cancel').addEventListener('click', () => this.dialog.close('cancel'));
    this.dialogForm.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.confirmClose();
    });
    this.dialog.addEventListener('close', () => {
      this.closing = null;
    });
    this.statusList.addEventListener('change', () => (this.dialogError.hidden = true));
    // Arrow keys move between tabs (the ARIA tabs pattern).
    this.tabList.addEventListener('keydown', (e) => {
      if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key) || !this.active) return;
      const list = [...this.sessions.values()];
      const at = list.indexOf(this.active);
      const next =
        e.key === 'Home' ? list[0] : e.key === 'End' ? list[list.length - 1] : list[(at + (e.key === 'ArrowRight' ? 1 : -1) + list.length) % list.length];
      if (!next) return;
      e.preventDefault();
      this.activate(next, false);
      this.byId(next.id)?.tab.focus();
    });
  }
}
