// @ts-check
// The queue's rules as the customer meets them (docs/protocol.md,
// "chat.start" and the closed event's reason): a queue that is not open
// (disabled, outside its hours, a holiday) shows its offline message in
// place of the pre-chat form; a start refused as queue_closed or
// queue_full shows the refusal's message at once; a chat the system ended
// because it waited too long (max_wait) or the queue closed (queue_closed)
// tells the customer so in the transcript, and the panel follows. The
// panel is OfflinePanel (offline.js), with the queue's offline form when
// it has one.

import { ProtocolError } from '../lib/parley.js';

/**
 * @typedef {import('./offline.js').OfflinePanel} OfflinePanel
 * @typedef {import('./api.js').Settings & {open?: boolean, offline_message?: string, unavailable_message?: string, offline_form?: boolean}} RuleSettings
 * @typedef {import('../lib/types.js').ChatEvent & {reason?: string}} ClosedEvent
 */

/** The reasons of a system close after which the customer is offered the panel. */
const PANEL_REASONS = ['max_wait', 'queue_closed'];

export class QueueRules {
  /**
   * @param {OfflinePanel} panel the widget's one offline panel (#parley-offline)
   * @param {() => {name?: string, email?: string}} prefill what the customer already told us
   */
  constructor(panel, prefill) {
    this.panel = panel;
    this.prefill = prefill;
    /** @type {RuleSettings | null} */
    this.settings = null;
    /** the queue closed while this page was open (its settings still say
     * open): the widget shows the offline panel where the form would be */
    this.closedSince = false;
  }

  /** @param {RuleSettings} settings */
  configure(settings) {
    this.settings = settings;
  }

  /**
   * A chat.start refused by the queue's rules: the panel with the
   * refusal's message. Returns whether err was such a refusal.
   * @param {unknown} err
   */
  refused(err) {
    if (!(err instanceof ProtocolError) || (err.code !== 'queue_closed' && err.code !== 'queue_full')) return false;
    if (err.code === 'queue_closed') this.closedSince = true;
    this.show(err.message);
    return true;
  }

  /**
   * What the transcript says of a closed event the system wrote, and the
   * panel after it for a wait too long or the queue closing; null for an
   * end by a person.
   * @param {ClosedEvent} ev
   * @returns {string | null}
   */
  ended(ev) {
    if (ev.author?.kind !== 'system') return null;
    if (ev.reason && PANEL_REASONS.includes(ev.reason)) {
      if (ev.reason === 'queue_closed') this.closedSince = true;
      this.show(ev.text || (ev.reason === 'queue_closed' ? this.settings?.offline_message : this.settings?.unavailable_message) || '');
    }
    if (ev.text) return ev.text;
    return ev.reason === 'auto_finish' ? 'The chat ended because you were away.' : 'The chat ended.';
  }

  /** A chat is on screen that goes on: no panel. */
  hide() {
    this.panel.hide();
  }

  /** @param {string} message */
  show(message) {
    this.panel.show({ message, form: this.settings?.offline_form === true, prefill: this.prefill() });
  }
}
