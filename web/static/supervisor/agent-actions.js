// @ts-check
// What a supervisor does to an agent of its queues (docs/protocol.md,
// "Supervisor actions"): the agent's status, queues and chats
// (agent.info), each chat with Assign (assign.js); Pause with a reason,
// Message (the staff thread with the agent), and Log out with where the
// agent's chats go: back to their queues, or to an agent who can take them.

import { el, setText } from '../lib/dom.js';
import { errorText, isDisconnected } from '../lib/util.js';
import { formDialog } from '../lib/form-dialog.js';
import { assignChat } from './assign.js';

/**
 * @typedef {import('./types.js').Ctx} Ctx
 * @typedef {{id: number, name: string}} Named
 * @typedef {{status: string, reason: string, since: string, by?: Named}} Status
 * @typedef {{id: number, state: string, customer?: {name: string}, queue?: Named}} Chat
 * @typedef {{user: Named, status: Status, queues: {id: number, name: string, capacity: number}[], chats: Chat[]}} Info
 * @typedef {{thread_id: number, seq: number, author: Named, text: string}} StaffMessage
 */

/**
 * Renders the actions on agent into el, and keeps them current while el
 * shows this agent.
 * @param {Ctx} ctx
 * @param {{id: number, name: string}} agent
 * @param {HTMLElement} el
 */
export function renderAgentActions(ctx, agent, el) {
  const view = new AgentActions(ctx, agent);
  el.replaceChildren(view.root);
  void view.load();
}

class AgentActions {
  /**
   * @param {Ctx} ctx
   * @param {Named} agent
   */
  constructor(ctx, agent) {
    this.ctx = ctx;
    this.agent = agent;
    /** @type {Info | null} */
    this.info = null;
    this.statusLine = el('p', { class: 'agent-actions-status', role: 'status', 'aria-live': 'polite' }, 'Loading…');
    this.queuesLine = el('p', { class: 'agent-actions-queues' });
    this.chatList = el('ul', { class: 'agent-actions-chats', 'aria-label': `Chats of ${agent.name}` });
    this.result = el('p', { class: 'agent-actions-result', role: 'status', 'aria-live': 'polite' });
    const pause = el('button', { class: 'button', type: 'button' }, 'Pause');
    const message = el('button', { class: 'button', type: 'button' }, 'Message');
    const logout = el('button', { class: 'button button-danger', type: 'button' }, 'Log out');
    pause.addEventListener('click', () => this.openPause());
    message.addEventListener('click', () => void this.openMessage());
    logout.addEventListener('click', () => void this.openLogout());
    this.root = el(
      'div',
      { class: 'agent-actions', 'data-agent': String(agent.id) },
      el('h3', { class: 'agent-actions-title' }, agent.name),
      this.statusLine,
      this.queuesLine,
      el('div', { class: 'agent-actions-buttons', role: 'group', 'aria-label': `Actions on ${agent.name}` }, pause, message, logout),
      this.result,
      el('h4', { class: 'agent-actions-subtitle' }, 'Chats now'),
      this.chatList,
    );
    // The agent's status or load changed: read it again while shown.
    const off = ctx.conn.on('staff.presence', (/** @type {{user_id: number}} */ d) => {
      if (!this.root.isConnected) off();
      else if (d.user_id === agent.id) void this.load();
    });
  }

  async load() {
    try {
      this.info = /** @type {Info} */ (await this.ctx.conn.request('agent.info', { user_id: this.agent.id }));
    } catch (err) {
      if (!isDisconnected(err)) setText(this.statusLine, `Could not read ${this.agent.name}: ${errorText(err)}`);
      return;
    }
    this.render();
  }

  render() {
    const info = this.info;
    if (!info) return;
    setText(this.statusLine, statusText(info.status));
    setText(this.queuesLine, info.queues.length ? `Queues: ${info.queues.map((q) => `${q.name} (${q.capacity} at a time)`).join(', ')}` : 'In no queue');
    if (!info.chats.length) {
      this.chatList.replaceChildren(el('li', { class: 'panel-empty' }, 'No chat now.'));
      return;
    }
    this.chatList.replaceChildren(
      ...info.chats.map((c) => {
        const assign = el('button', { class: 'button button-quiet', type: 'button' }, 'Assign');
        assign.setAttribute('aria-label', `Assign the chat with ${c.customer?.name ?? 'the customer'}`);
        assign.addEventListener('click', () => assignChat(this.ctx, c));
        const open = el('button', { class: 'button button-quiet', type: 'button' }, 'Open');
        open.addEventListener('click', () => this.ctx.openChat(c.id));
        return el(
          'li',
          { class: 'agent-actions-chat', 'data-conversation': String(c.id) },
          el('span', { class: 'agent-actions-chat-name' }, c.customer?.name ?? 'Customer'),
          el('span', { class: 'agent-actions-chat-queue' }, c.queue?.name ?? ''),
          open,
          assign,
        );
      }),
    );
  }

  /** @param {string} text */
  done(text) {
    setText(this.result, text);
    void this.load();
  }

  openPause() {
    const input = el('input', { id: 'pause-agent-reason', type: 'text', maxlength: '100', required: true, autocomplete: 'off' });
    const d = dialog(`Pause ${this.agent.name}`, `${this.agent.name} gets no new chat and keeps the ones they have, and sees who paused them and why.`, 'Pause', [
      el('div', { class: 'field' }, el('label', { for: 'pause-agent-reason' }, 'Why'), input),
    ]);
    d.onSubmit = async () => {
      const reason = /** @type {HTMLInputElement} */ (input).value.trim();
      if (!reason) throw new Error('Say why (1–100 characters).');
      await this.ctx.conn.request('agent.pause', { user_id: this.agent.id, reason });
      this.done(`${this.agent.name} is paused: ${reason}`);
    };
    d.show(input);
  }

  async openLogout() {
    await this.load();
    const chats = this.info?.chats ?? [];
    /** @type {HTMLElement[]} */
    const body = [];
    const select = /** @type {HTMLSelectElement} */ (el('select', { id: 'logout-agent-to' }));
    if (chats.length) {
      /** @type {{agents: Named[]}} */
      let targets = { agents: [] };
      try {
        targets = await this.ctx.conn.request('chat.assign_targets', { conversation_id: chats[0].id });
      } catch {
        // Nobody to pick: the chats go back to their queues.
      }
      select.append(
        el('option', { value: '' }, 'Their queues (at the head)'),
        ...targets.agents.filter((a) => a.id !== this.agent.id).map((a) => el('option', { value: String(a.id) }, a.name)),
      );
      body.push(el('div', { class: 'field' }, el('label', { for: 'logout-agent-to' }, `Their ${chats.length} chat${chats.length === 1 ? '' : 's'} go to`), select));
    }
    const d = dialog(
      `Log ${this.agent.name} out`,
      `Every tab of ${this.agent.name} closes and their status becomes offline.${chats.length ? '' : ' They have no chat now.'}`,
      'Log out',
      body,
    );
    d.onSubmit = async () => {
      /** @type {{user_id: number, to?: number}} */
      const data = { user_id: this.agent.id };
      if (select.value) data.to = Number(select.value);
      await this.ctx.conn.request('agent.logout', data);
      this.done(`${this.agent.name} is signed out.`);
    };
    d.show(chats.length ? select : null);
  }

  async openMessage() {
    const log = el('ol', { class: 'agent-thread', 'aria-label': `Messages with ${this.agent.name}`, 'aria-live': 'polite' });
    const input = el('textarea', { id: 'message-agent-text', rows: '2', maxlength: '4000' });
    const d = dialog(`Message ${this.agent.name}`, 'Only you and the agent read this thread.', 'Send', [
      log,
      el('div', { class: 'field' }, el('label', { for: 'message-agent-text' }, 'Message'), input),
    ]);
    let last = 0;
    /** @param {StaffMessage} m */
    const show = (m) => {
      if (m.seq <= last) return;
      last = m.seq;
      log.append(el('li', { class: 'agent-thread-message' }, el('strong', {}, `${m.author.name}: `), m.text));
    };
    let thread = 0;
    const off = this.ctx.conn.on('staff.message', (/** @type {StaffMessage & {with: Named}} */ m) => {
      if (m.with.id === this.agent.id || m.thread_id === thread) show(m);
    });
    d.dialog.addEventListener('close', () => off());
    d.onSubmit = async () => {
      const text = /** @type {HTMLTextAreaElement} */ (input).value.trim();
      if (!text) throw new Error('Write a message.');
      await this.ctx.conn.request('staff.send', { user_id: this.agent.id, client_id: `sup-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, text });
      /** @type {HTMLTextAreaElement} */ (input).value = '';
      return 'stay';
    };
    d.show(input);
    try {
      /** @type {{thread: {id: number}, messages: StaffMessage[]}} */
      const answer = await this.ctx.conn.request('staff.resume', { user_id: this.agent.id, after_seq: 0 });
      thread = answer.thread.id;
      for (const m of answer.messages) show(m);
    } catch (err) {
      if (!isDisconnected(err)) d.fail(`Could not read the thread: ${errorText(err)}`);
    }
  }
}

/**
 * The agent actions' form dialog (lib/form-dialog.js), dismissed with
 * Close, the focus on it.
 * @param {string} title
 * @param {string} text
 * @param {string} confirm
 * @param {HTMLElement[]} fields
 */
function dialog(title, text, confirm, fields) {
  return formDialog({ title, text, confirm, fields, dismiss: 'Close', focus: 'dismiss', className: 'sup-dialog' });
}

/** @param {Status} st */
function statusText(st) {
  if (st.status === 'paused') return st.by ? `Paused by ${st.by.name}: ${st.reason}` : `Paused: ${st.reason}`;
  return st.status === 'available' ? 'Available' : st.status === 'offline' ? 'Offline' : st.status;
}
