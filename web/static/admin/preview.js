// @ts-check
// The Queues tab's live preview of the widget: the real widget page in
// preview mode (/admin/widget-preview, widget/preview.js) in an iframe,
// told the queue's settings as the admin edits them, before saving, by
// postMessage to the frame's origin, which is ours. The page in preview
// mode never asks the server for a queue, a visitor token or a
// connection, so no chat can start from it.

import { el } from '../lib/dom.js';
import { openAt } from './queues-hours.js';
import { DEFAULT_OFFLINE, DEFAULT_UNAVAILABLE } from './queues-form.js';

/** @typedef {import('./queues-form.js').QueueConfig} QueueConfig */

/**
 * What the widget would get from GET /api/widget/{key} (queues.Public),
 * with the server's defaults for what is empty.
 * @param {QueueConfig} q
 * @param {boolean} open
 */
export function publicSettings(q, open) {
  return {
    key: q.key,
    name: q.name.trim(),
    title: q.title.trim() || 'Chat with us',
    color: /^#[0-9a-fA-F]{6}$/.test(q.color) ? q.color : '#2f6fed',
    show_agent_name: q.show_agent_name,
    customer_calls: q.customer_calls,
    feedback: q.feedback,
    open,
    offline_message: q.offline_message.trim() || DEFAULT_OFFLINE,
    unavailable_message: q.unavailable_message.trim() || DEFAULT_UNAVAILABLE,
    offline_form: q.offline_form,
    verified_only: q.verified_only,
    fields: { email: q.email_mode, extra: { label: q.extra_label, mode: q.extra_mode } },
  };
}

export class Preview {
  constructor() {
    this.frame = /** @type {HTMLIFrameElement} */ (
      el('iframe', { class: 'qp-frame', id: 'q-preview', title: 'Widget preview', src: '/admin/widget-preview' })
    );
    this.mode = /** @type {HTMLSelectElement} */ (
      el(
        'select',
        { id: 'q-preview-mode' },
        el('option', { value: 'now' }, 'As it is now'),
        el('option', { value: 'open' }, 'Open'),
        el('option', { value: 'closed' }, 'Closed (offline)'),
      )
    );
    this.root = el(
      'div',
      { class: 'qp' },
      el('div', { class: 'qp-bar' }, el('label', { for: 'q-preview-mode' }, 'Show'), this.mode),
      this.frame,
      el('p', { class: 'qf-hint' }, 'A preview: it follows your edits before you save, and starts no chats.'),
    );
    /** @type {QueueConfig | null} */
    this.queue = null;
    this.ready = false;
    this.onMessage = (/** @type {MessageEvent} */ e) => {
      if (e.origin !== location.origin || e.source !== this.frame.contentWindow) return;
      if (e.data?.parley === 'preview' && e.data.ready === true) {
        this.ready = true;
        this.send();
      }
    };
    window.addEventListener('message', this.onMessage);
    this.mode.addEventListener('change', () => this.send());
  }

  /** @param {QueueConfig} q the settings as the form has them */
  show(q) {
    this.queue = q;
    this.send();
  }

  send() {
    if (!this.ready || !this.queue) return;
    const mode = this.mode.value;
    const open = mode === 'now' ? openAt(this.queue) : mode === 'open';
    this.frame.contentWindow?.postMessage({ parley: 'preview', settings: publicSettings(this.queue, open) }, location.origin);
  }

  /** Stops listening: the page it was on is gone. */
  close() {
    window.removeEventListener('message', this.onMessage);
  }
}
