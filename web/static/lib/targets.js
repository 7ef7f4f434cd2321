// @ts-check
// The picker of colleagues and queues that invites and transfers (the
// desk) and a supervisor's assign (the console) share (docs/protocol.md,
// "Transfers"): a modal dialog listing only the targets that can take the
// chat now, as chat.transfer_targets (or chat.assign_targets) answers, asked again
// on every staff.presence event and every 5 s while it is open. Agents show
// their status and load ("1/3 chats"), queues how many agents are free.
// Sending is the caller's request (chat.invite or chat.transfer); a refusal
// shows the server's message in the dialog and the dialog stays.

import { el, setText } from '../lib/dom.js';
import { errorText, isDisconnected } from '../lib/util.js';

/**
 * @typedef {{id: number, name: string}} Named
 * @typedef {{id: number, name: string, status: string, open_chats: number, capacity: number, queues?: Named[]}} TargetAgent
 * @typedef {{id: number, name: string, available_agents: number, waiting: number}} TargetQueue
 * @typedef {{agents: TargetAgent[], queues: TargetQueue[]}} Targets
 * @typedef {{kind: 'agent', id: number, name: string} | {kind: 'queue', id: number, name: string}} Target
 *
 * @typedef {object} Mode what the dialog is for
 * @property {string} title e.g. "Invite a colleague"
 * @property {string} text the line under the title
 * @property {string} confirm the send button's label
 * @property {(t: Target) => string} queueLabel how a queue reads as a choice
 * @property {(t: Target) => Promise<void>} send the request; throws the server's refusal
 * @property {string} [targets] the request that lists the targets: chat.transfer_targets unless said
 */

const REFRESH_MS = 5000;

export class TargetDialog {
  /**
   * @param {import('../lib/parley.js').Connection} conn
   */
  constructor(conn) {
    this.conn = conn;
    /** @type {number | null} the conversation the dialog is open for */
    this.conversationId = null;
    /** @type {Mode | null} */
    this.mode = null;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.timer = null;
    /** answers older than the newest asked are dropped */
    this.asked = 0;
    /** @type {Targets | null} */
    this.targets = null;
    this.sending = false;

    this.title = el('h2', { id: 'team-dialog-title', class: 'dialog-title' });
    this.text = el('p', { class: 'dialog-text', id: 'team-dialog-text' });
    this.agentList = el('div', { class: 'team-targets' });
    this.queueList = el('div', { class: 'team-targets' });
    this.agentSet = el('fieldset', { class: 'choices team-choices', id: 'team-agents' }, el('legend', {}, 'Colleagues'), this.agentList);
    this.queueSet = el('fieldset', { class: 'choices team-choices', id: 'team-queues' }, el('legend', {}, 'Queues'), this.queueList);
    this.state = el('p', { class: 'panel-empty team-state', role: 'status' }, 'Loading who can take it…');
    this.error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    this.cancel = el('button', { class: 'button button-quiet', type: 'button' }, 'Cancel');
    this.confirm = el('button', { class: 'button button-primary', type: 'submit' });
    this.form = el(
      'form',
      { method: 'dialog', class: 'dialog-form', novalidate: true },
      this.title,
      this.text,
      this.state,
      this.agentSet,
      this.queueSet,
      this.error,
      el('div', { class: 'dialog-buttons' }, this.cancel, this.confirm),
    );
    this.dialog = el('dialog', { id: 'team-dialog', class: 'dialog team-dialog', 'aria-labelledby': 'team-dialog-title', 'aria-describedby': 'team-dialog-text' }, this.form);
    document.body.append(this.dialog);

    this.cancel.addEventListener('click', () => this.dialog.close('cancel'));
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submit();
    });
    this.form.addEventListener('change', () => {
      this.error.hidden = true;
      this.renderConfirm();
    });
    this.dialog.addEventListener('close', () => this.stop());
    conn.on('staff.presence', () => {
      if (this.dialog.open) void this.refresh();
    });
  }

  /**
   * Opens the picker for a conversation.
   * @param {number} conversationId
   * @param {Mode} mode
   */
  open(conversationId, mode) {
    this.stop();
    this.conversationId = conversationId;
    this.mode = mode;
    this.targets = null;
    setText(this.title, mode.title);
    setText(this.text, mode.text);
    setText(this.confirm, mode.confirm);
    this.error.hidden = true;
    this.agentList.replaceChildren();
    this.queueList.replaceChildren();
    this.agentSet.hidden = this.queueSet.hidden = true;
    this.state.hidden = false;
    setText(this.state, 'Loading who can take it…');
    this.sending = false;
    this.renderConfirm();
    this.dialog.returnValue = '';
    this.dialog.showModal();
    this.cancel.focus();
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
  }

  stop() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.asked++;
  }

  /** Asks again who can take the chat now. */
  async refresh() {
    const id = this.conversationId;
    if (id === null || !this.dialog.open) return;
    const ask = ++this.asked;
    try {
      const targets = /** @type {Targets} */ (await this.conn.request(this.mode?.targets ?? 'chat.transfer_targets', { conversation_id: id }));
      if (ask !== this.asked || !this.dialog.open) return;
      this.targets = targets;
      this.render();
    } catch (err) {
      if (ask !== this.asked || !this.dialog.open || isDisconnected(err)) return;
      setText(this.state, `Could not load who can take it: ${errorText(err)}`);
      this.state.hidden = false;
    }
  }

  /** @returns {string} the chosen radio's value, "agent:7" or "queue:3", or "" */
  chosen() {
    const input = /** @type {HTMLInputElement | null} */ (this.form.querySelector('input[name="team-target"]:checked'));
    return input?.value ?? '';
  }

  render() {
    const t = this.targets;
    const mode = this.mode;
    if (!t || !mode) return;
    const was = this.chosen();
    const hadFocus = this.form.querySelector('input:focus') instanceof HTMLInputElement ? was || 'some' : '';
    this.agentList.replaceChildren(
      ...t.agents.map((a) =>
        choice(
          `agent:${a.id}`,
          a.name,
          `${statusText(a.status)} · ${a.open_chats}/${a.capacity} chats${a.queues?.length ? ' · ' + a.queues.map((q) => q.name).join(', ') : ''}`,
        ),
      ),
    );
    this.queueList.replaceChildren(
      ...t.queues.map((q) =>
        choice(
          `queue:${q.id}`,
          mode.queueLabel({ kind: 'queue', id: q.id, name: q.name }),
          `${q.available_agents} available${q.waiting ? ` · ${q.waiting} waiting` : ''}`,
        ),
      ),
    );
    this.agentSet.hidden = t.agents.length === 0;
    this.queueSet.hidden = t.queues.length === 0;
    const none = t.agents.length === 0 && t.queues.length === 0;
    this.state.hidden = !none;
    if (none) setText(this.state, 'Nobody can take this chat right now: every colleague is busy, paused or offline.');
    const again = /** @type {HTMLInputElement | null} */ (was ? this.form.querySelector(`input[value="${was}"]`) : null);
    if (again) again.checked = true;
    if (hadFocus) (again ?? this.form.querySelector('input[name="team-target"]') ?? this.cancel).focus();
    this.renderConfirm();
  }

  renderConfirm() {
    this.confirm.disabled = this.sending || this.chosen() === '';
  }

  /** @returns {Target | null} */
  target() {
    const value = this.chosen();
    const t = this.targets;
    if (!value || !t) return null;
    const [kind, raw] = value.split(':');
    const id = Number(raw);
    if (kind === 'agent') {
      const a = t.agents.find((x) => x.id === id);
      return a ? { kind: 'agent', id, name: a.name } : null;
    }
    const q = t.queues.find((x) => x.id === id);
    return q ? { kind: 'queue', id, name: q.name } : null;
  }

  async submit() {
    const target = this.target();
    const mode = this.mode;
    if (!mode || this.sending) return;
    if (!target) {
      this.fail('Choose a colleague or a queue.');
      return;
    }
    this.sending = true;
    this.renderConfirm();
    try {
      await mode.send(target);
      this.dialog.close('sent');
    } catch (err) {
      this.fail(errorText(err));
      void this.refresh();
    } finally {
      this.sending = false;
      this.renderConfirm();
    }
  }

  /** @param {string} message */
  fail(message) {
    setText(this.error, message);
    this.error.hidden = false;
  }
}

/**
 * A radio choice with a name and a detail line.
 * @param {string} value
 * @param {string} name
 * @param {string} detail
 */
function choice(value, name, detail) {
  return el(
    'label',
    { class: 'choice team-choice', 'data-target': value },
    el('input', { type: 'radio', name: 'team-target', value }),
    el('span', { class: 'team-choice-text' }, el('span', { class: 'team-choice-name' }, name), el('span', { class: 'team-choice-detail' }, detail)),
  );
}

/** @param {string} status */
function statusText(status) {
  return status === 'available' ? 'Available' : status === 'paused' ? 'Paused' : status === 'offline' ? 'Offline' : status;
}
