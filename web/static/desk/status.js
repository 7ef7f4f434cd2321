// @ts-check
// The agent's status in the top bar (docs/protocol.md, "Agents"):
// Available, Paused (with a reason asked in a dialog) or Offline. It comes
// from agent.state on every hello and from agent.status events, which also
// tell when the server paused the agent for missed offers.

import { byId, setText } from '../lib/dom.js';
import { errorText, hhmm } from '../lib/util.js';

/**
 * @typedef {import('../lib/types.js').AgentStatus} AgentStatus
 * @typedef {import('../lib/types.js').AgentState} AgentState
 * @typedef {import('../lib/types.js').AgentQueue} AgentQueue
 * @typedef {import('./notices.js').Notices} Notices
 */

const MISSED = 'missed offer';
const MISSED_KEY = 'missed-offer';

export class StatusControl {
  /**
   * @param {import('../lib/parley.js').Connection} conn
   * @param {Notices} notices
   */
  constructor(conn, notices) {
    this.conn = conn;
    this.notices = notices;
    this.root = byId('status-control');
    this.select = /** @type {HTMLSelectElement} */ (byId('agent-status'));
    this.reasonLine = byId('status-reason');
    this.myQueues = byId('my-queues');
    this.dialog = /** @type {HTMLDialogElement} */ (byId('pause-dialog'));
    this.form = /** @type {HTMLFormElement} */ (byId('pause-form'));
    this.other = /** @type {HTMLInputElement} */ (byId('pause-other'));
    this.otherChoice = /** @type {HTMLInputElement} */ (byId('pause-other-choice'));
    this.error = byId('pause-error');
    this.confirm = /** @type {HTMLButtonElement} */ (byId('pause-confirm'));

    /** @type {AgentStatus | null} */
    this.current = null;
    /** @type {AgentQueue[]} */
    this.queues = [];
    /** chats open now, for "1 of 3 chats" (set by the chats) */
    this.openChats = 0;

    this.select.addEventListener('change', () => this.chosen());
    this.reasonLine.addEventListener('click', () => this.openPause());
    byId('pause-cancel').addEventListener('click', () => this.dialog.close('cancel'));
    this.dialog.addEventListener('close', () => {
      if (this.dialog.returnValue !== 'paused') this.render(); // back to what it is
    });
    this.other.addEventListener('input', () => {
      if (this.other.value.trim()) this.otherChoice.checked = true;
    });
    this.otherChoice.addEventListener('change', () => this.other.focus());
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.pause();
    });
  }

  /**
   * After a hello: the status, the queues and their closing statuses.
   * @returns {Promise<AgentState>} the whole answer (its pending offers too)
   */
  async load() {
    const state = /** @type {AgentState} */ (await this.conn.request('agent.state'));
    this.queues = state.queues ?? [];
    this.apply(state);
    this.renderQueues();
    return state;
  }

  /**
   * A queue an admin saved (queue.settings): its entry replaced, so its
   * chat time colours and closing statuses apply without a reload.
   * @param {AgentQueue} q
   */
  settings(q) {
    const i = this.queues.findIndex((x) => x.id === q.id);
    if (i >= 0) this.queues[i] = q;
    else this.queues.push(q);
    this.renderQueues();
  }

  /**
   * The statuses a chat of the queue is closed with.
   * @param {number} queueId
   * @returns {string[] | null} null when this agent's queues do not say
   */
  statusesOf(queueId) {
    return this.queues.find((q) => q.id === queueId)?.statuses ?? null;
  }

  /**
   * A status from the server: an answer or an agent.status event.
   * @param {AgentStatus} st
   */
  apply(st) {
    const was = this.current;
    this.current = { status: st.status, reason: st.reason ?? '', since: st.since };
    this.select.disabled = false;
    this.render();
    if (st.status === 'paused' && st.reason === MISSED) {
      if (!(was?.status === 'paused' && was.reason === MISSED && was.since === st.since)) {
        this.notices.show('You let offers run out in a row, so you were paused. Set yourself Available to get chats again.', {
          kind: 'info',
          key: MISSED_KEY,
        });
      }
    } else {
      this.notices.clear(MISSED_KEY);
    }
  }

  render() {
    const st = this.current;
    if (!st) return;
    this.select.value = st.status;
    this.root.dataset.status = st.status;
    if (st.status === 'paused') {
      const since = hhmm(st.since);
      const reason = st.reason === MISSED ? 'Missed an offer' : st.reason;
      setText(this.reasonLine, since ? `${reason} · since ${since}` : reason);
      this.reasonLine.hidden = false;
    } else {
      this.reasonLine.hidden = true;
    }
  }

  /** @param {number} n chats open in the desk */
  setOpenChats(n) {
    this.openChats = n;
    this.renderQueues();
  }

  renderQueues() {
    if (!this.queues.length) {
      setText(this.myQueues, '');
      this.myQueues.hidden = true;
      return;
    }
    const cap = Math.max(...this.queues.map((q) => q.capacity));
    const names = this.queues.map((q) => q.name).join(', ');
    setText(this.myQueues, `${names} · ${this.openChats} of ${cap} chats open`);
    this.myQueues.hidden = false;
  }

  chosen() {
    const value = this.select.value;
    if (value === 'paused') {
      this.openPause();
      return;
    }
    void this.set(/** @type {'available' | 'offline'} */ (value), '');
  }

  openPause() {
    this.error.hidden = true;
    this.confirm.disabled = false;
    if (this.current?.status === 'paused' && this.current.reason !== MISSED) {
      const preset = /** @type {HTMLInputElement | null} */ (
        this.form.querySelector(`input[name="reason"][value="${CSS.escape(this.current.reason)}"]`)
      );
      if (preset) preset.checked = true;
      else {
        this.otherChoice.checked = true;
        this.other.value = this.current.reason;
      }
    }
    this.dialog.returnValue = '';
    this.dialog.showModal();
    const checked = /** @type {HTMLInputElement | null} */ (this.form.querySelector('input[name="reason"]:checked'));
    checked?.focus();
  }

  async pause() {
    const checked = /** @type {HTMLInputElement | null} */ (this.form.querySelector('input[name="reason"]:checked'));
    const reason = checked === this.otherChoice || !checked ? this.other.value.trim() : checked.value;
    if (!reason) {
      setText(this.error, 'Say why you pause.');
      this.error.hidden = false;
      this.other.focus();
      return;
    }
    this.confirm.disabled = true;
    const ok = await this.set('paused', reason, (message) => {
      setText(this.error, message);
      this.error.hidden = false;
    });
    this.confirm.disabled = false;
    if (ok) this.dialog.close('paused');
  }

  /**
   * Sends agent.status.
   * @param {'available' | 'paused' | 'offline'} status
   * @param {string} reason
   * @param {(message: string) => void} [onError] where to say it failed (else a notice)
   * @returns {Promise<boolean>}
   */
  async set(status, reason, onError) {
    this.select.disabled = true;
    try {
      const st = /** @type {AgentStatus} */ (await this.conn.request('agent.status', { status, reason }));
      this.apply(st);
      return true;
    } catch (err) {
      const message = `Could not change your status: ${errorText(err)}`;
      if (onError) onError(message);
      else this.notices.show(message);
      this.render();
      return false;
    } finally {
      this.select.disabled = false;
    }
  }
}
