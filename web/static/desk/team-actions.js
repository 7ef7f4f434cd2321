// @ts-check
// Agents together in a chat (docs/protocol.md, "Invites", "Leaving",
// "Transfers"): the chat header's Invite, Transfer and Leave chat buttons
// and the agents in the chat; the bar of a pending invitation or transfer
// ("Inviting Bob Agent… Cancel"); the notices its outcome brings the agent
// who asked ("Bob Agent declined", "Nobody answered", "Bob Agent joined"
// with the choice to leave the chat to them or stay), and the notice when
// the chat leaves this desk ("Chat transferred to Bob Agent").
//
// What is pending is read from the transcript itself (invited,
// invite_ended, joined, transfer_requested, transfer_ended, transferred),
// so it is the same in every tab and after a reload; only events that are
// news (arriving after the chat was loaded) bring notices.

import { byId, el, setText } from '../lib/dom.js';
import { errorText } from '../lib/util.js';
import { TargetDialog } from '../lib/targets.js';

/**
 * @typedef {import('./chat.js').ChatSession} ChatSession
 * @typedef {import('../lib/types.js').ChatEvent} ChatEvent
 * @typedef {import('../lib/targets.js').Target} Target
 * @typedef {{kind: string, name: string}} EventTarget
 * @typedef {{kind: 'invite' | 'transfer', by: string, target: string, targetKind: string}} Pending
 * @typedef {{id: number | string, name: string}} ChatAgent
 */

export class TeamActions {
  /**
   * @param {object} deps
   * @param {import('../lib/parley.js').Connection} deps.conn
   * @param {import('./notices.js').Notices} deps.notices
   * @param {() => ChatSession | null} deps.active the chat shown
   * @param {(id: number) => ChatSession | undefined} deps.chat a chat of the desk by id
   */
  constructor({ conn, notices, active, chat }) {
    this.conn = conn;
    this.notices = notices;
    this.active = active;
    this.chat = chat;
    /** @type {Map<number, Pending>} the pending invitation or transfer of each chat */
    this.pending = new Map();
    /** @type {Map<number, string>} where this desk last sent each chat (for the notice when it goes) */
    this.sentTo = new Map();
    this.picker = new TargetDialog(conn);

    this.inviteButton = /** @type {HTMLButtonElement} */ (byId('invite-agent'));
    this.transferButton = /** @type {HTMLButtonElement} */ (byId('transfer-chat'));
    this.leaveButton = /** @type {HTMLButtonElement} */ (byId('leave-chat'));
    this.agentsLine = byId('chat-agents');
    this.barText = el('span', { class: 'team-pending-text' });
    this.barCancel = el('button', { class: 'button button-small', type: 'button' }, 'Cancel');
    this.bar = el('div', { id: 'team-pending', class: 'team-pending', role: 'status', hidden: true }, el('span', { class: 'team-spinner', 'aria-hidden': 'true' }), this.barText, this.barCancel);
    byId('transcript-slot').before(this.bar);

    this.inviteButton.addEventListener('click', () => this.openInvite());
    this.transferButton.addEventListener('click', () => this.openTransfer());
    this.leaveButton.addEventListener('click', () => {
      const s = this.active();
      if (s) void this.leave(s);
    });
    this.barCancel.addEventListener('click', () => {
      const s = this.active();
      if (s) void this.cancel(s);
    });
  }

  /** @returns {string} this desk's user's name */
  me() {
    return this.conn.hello?.principal.name ?? '';
  }

  /**
   * The agents in the chat, lead first, as the server last said.
   * @param {ChatSession} s
   * @returns {ChatAgent[]}
   */
  agentsOf(s) {
    const agents = /** @type {{agents?: ChatAgent[]}} */ (s.conv).agents;
    if (agents) return agents;
    return s.conv.agent ? [{ id: s.conv.agent.id ?? 0, name: s.conv.agent.name }] : [];
  }

  /**
   * Whether the desk's user is one of the chat's agents.
   * @param {ChatSession} s
   */
  inChat(s) {
    const me = this.conn.hello?.principal;
    if (!me || me.kind !== 'user') return false;
    // The principal's id is "user:7"; an agent's in a conversation is 7.
    return this.agentsOf(s).some((a) => `user:${a.id}` === me.id);
  }

  // ---------------------------------------------------------------- header

  /**
   * Draws the header's buttons, the agents and the pending bar of the chat
   * shown (after the pane is drawn).
   * @param {ChatSession | null} s
   */
  render(s) {
    const open = s !== null && !s.closed && s.conv.state === 'active';
    const mine = open && s !== null && this.inChat(s);
    const agents = s ? this.agentsOf(s) : [];
    const pending = s ? this.pending.get(s.id) : undefined;
    this.inviteButton.hidden = !mine;
    this.transferButton.hidden = !mine;
    this.leaveButton.hidden = !mine || agents.length < 2;
    this.inviteButton.disabled = this.transferButton.disabled = pending !== undefined;
    const title = pending ? 'Wait for the answer, or cancel it, first' : '';
    this.inviteButton.title = title;
    this.transferButton.title = title;
    setText(this.agentsLine, agents.length ? `Agents: ${agents.map((a) => a.name).join(', ')}` : '');
    this.agentsLine.hidden = !open || agents.length === 0;
    this.bar.hidden = !open || !pending;
    if (s && pending) {
      const mineAsk = pending.by === this.me();
      const who = mineAsk ? '' : `${pending.by}: `;
      setText(
        this.barText,
        pending.kind === 'invite'
          ? `${who}Inviting ${pending.target}…`
          : `${who}Transferring to ${pending.target}…`,
      );
      this.barCancel.hidden = !mine;
      this.barCancel.setAttribute('aria-label', pending.kind === 'invite' ? `Cancel the invitation of ${pending.target}` : `Cancel the transfer to ${pending.target}`);
    }
  }

  // ---------------------------------------------------------------- events

  /**
   * An event the chat shows, in order; news: it happened now, not on load.
   * @param {ChatSession} s
   * @param {ChatEvent} ev
   * @param {boolean} news
   */
  event(s, ev, news) {
    const target = /** @type {ChatEvent & {target?: EventTarget}} */ (ev).target;
    const who = ev.author?.name ?? '';
    const before = this.pending.get(s.id);
    const asked = before !== undefined && before.by === this.me();
    const customer = s.conv.customer.name;
    switch (ev.kind) {
      case 'invited':
      case 'transfer_requested':
        this.pending.set(s.id, {
          kind: ev.kind === 'invited' ? 'invite' : 'transfer',
          by: who,
          target: target?.name ?? 'a colleague',
          targetKind: target?.kind ?? 'agent',
        });
        break;
      case 'invite_ended':
        this.pending.delete(s.id);
        if (news && asked) {
          if (ev.status === 'declined') this.tell(s, `${who} declined to join the chat with ${customer}.`);
          else if (ev.status === 'timeout') this.tell(s, `Nobody answered: ${who} did not answer the invitation to the chat with ${customer}.`);
        }
        break;
      case 'transfer_ended':
        this.pending.delete(s.id);
        if (news && asked) {
          if (ev.status === 'declined') this.tell(s, `${who} declined the transfer of the chat with ${customer}. The chat stays with you.`);
          else if (ev.status === 'timeout') this.tell(s, `Nobody answered: ${who} did not take the transfer of the chat with ${customer}. The chat stays with you.`);
        }
        break;
      case 'joined':
        if (before?.kind === 'invite') this.pending.delete(s.id);
        if (news && asked && before?.kind === 'invite' && who !== this.me()) this.joined(s, who);
        break;
      case 'left':
        break;
      case 'transferred':
        this.pending.delete(s.id);
        if (asked && before?.kind === 'transfer') this.sentTo.set(s.id, target?.name ?? who);
        break;
      default:
        return;
    }
    // The agents in the chat changed (or may have): ask for the conversation again.
    if (news && ['joined', 'left', 'transferred'].includes(ev.kind)) void s.resume().catch(() => {});
    if (s === this.active()) this.render(s);
  }

  /**
   * The one the agent invited joined: stay, or leave the chat to them.
   * @param {ChatSession} s
   * @param {string} who
   */
  joined(s, who) {
    const key = `team-joined-${s.id}`;
    const node = this.notices.show(`${who} joined the chat with ${s.conv.customer.name}.`, { kind: 'info', key });
    const leave = el('button', { class: 'button button-small', type: 'button' }, `Leave chat to ${who}`);
    const stay = el('button', { class: 'button button-small button-quiet', type: 'button' }, 'Stay');
    leave.addEventListener('click', () => {
      this.notices.clear(key);
      void this.leave(s);
    });
    stay.addEventListener('click', () => this.notices.clear(key));
    node.querySelector('.notice-text')?.after(el('div', { class: 'notice-actions' }, leave, stay));
  }

  /**
   * A notice about one chat.
   * @param {ChatSession} s
   * @param {string} message
   */
  tell(s, message) {
    this.notices.show(message, { kind: 'info', key: `team-${s.id}` });
  }

  /**
   * The agent may no longer read a chat (chat.access_ended): say why, when
   * it is the agent's own doing.
   * @param {number} id
   * @param {string} reason
   */
  accessEnded(id, reason) {
    const s = this.chat(id);
    const to = this.sentTo.get(id) ?? (this.pending.get(id)?.kind === 'transfer' ? this.pending.get(id)?.target : undefined);
    this.pending.delete(id);
    this.sentTo.delete(id);
    if (!s) return;
    const customer = s.conv.customer.name;
    if (reason === 'transferred' || (reason !== 'left' && to)) {
      this.tell(s, to ? `Chat transferred to ${to}: ${customer} is in their hands now.` : `The chat with ${customer} was transferred.`);
    } else if (reason === 'left') {
      this.tell(s, `You left the chat with ${customer}.`);
    }
  }

  // -------------------------------------------------------------- requests

  openInvite() {
    const s = this.active();
    if (!s) return;
    const id = s.id;
    this.picker.open(id, {
      title: `Invite a colleague to the chat with ${s.conv.customer.name}`,
      text: 'They join the chat and see it all; you choose then whether to stay.',
      confirm: 'Invite',
      queueLabel: (t) => `Any available agent of ${t.name}`,
      send: async (t) => {
        const data = t.kind === 'agent' ? { conversation_id: id, user_id: t.id } : { conversation_id: id, queue_id: t.id };
        const answer = /** @type {{invitation?: {user?: {name: string}}}} */ (await this.conn.request('chat.invite', data));
        const name = answer?.invitation?.user?.name ?? t.name;
        if (!this.pending.has(id)) this.pending.set(id, { kind: 'invite', by: this.me(), target: name, targetKind: 'agent' });
        this.rerender(id);
      },
    });
  }

  openTransfer() {
    const s = this.active();
    if (!s) return;
    const id = s.id;
    this.picker.open(id, {
      title: `Transfer the chat with ${s.conv.customer.name}`,
      text: 'To a colleague, who must accept it (until then it stays yours), or to a queue, where it is next in line.',
      confirm: 'Transfer',
      queueLabel: (t) => `Queue ${t.name}`,
      send: async (t) => {
        // A transfer to a queue takes the chat away before its answer may arrive.
        this.sentTo.set(id, t.name);
        const data = t.kind === 'agent' ? { conversation_id: id, user_id: t.id } : { conversation_id: id, queue_id: t.id };
        try {
          const answer = /** @type {{transfer?: {user?: {name: string}}}} */ (await this.conn.request('chat.transfer', data));
          const name = answer?.transfer?.user?.name;
          if (name && !this.pending.has(id) && this.chat(id)) this.pending.set(id, { kind: 'transfer', by: this.me(), target: name, targetKind: 'agent' });
        } catch (err) {
          this.sentTo.delete(id);
          throw err;
        }
        this.rerender(id);
      },
    });
  }

  /** @param {number} id */
  rerender(id) {
    const s = this.active();
    if (s && s.id === id) this.render(s);
  }

  /**
   * Withdraws the chat's pending invitation or transfer.
   * @param {ChatSession} s
   */
  async cancel(s) {
    const pending = this.pending.get(s.id);
    if (!pending) return;
    this.barCancel.disabled = true;
    try {
      await this.conn.request(pending.kind === 'invite' ? 'chat.invite_cancel' : 'chat.transfer_cancel', { conversation_id: s.id });
      this.sentTo.delete(s.id);
    } catch (err) {
      this.notices.show(`Could not cancel: ${errorText(err)}`);
      s.fillGap(); // it ended meanwhile: its event says how
    } finally {
      this.barCancel.disabled = false;
    }
  }

  /**
   * Leaves the chat to the other agents.
   * @param {ChatSession} s
   */
  async leave(s) {
    this.leaveButton.disabled = true;
    try {
      await this.conn.request('chat.leave', { conversation_id: s.id });
    } catch (err) {
      this.notices.show(`Could not leave the chat with ${s.conv.customer.name}: ${errorText(err)}`);
    } finally {
      this.leaveButton.disabled = false;
    }
  }
}
