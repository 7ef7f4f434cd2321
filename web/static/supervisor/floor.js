// @ts-check
// The live floor as the console holds it: the last supervisor.floor
// snapshot, the server's clock, and the ages that tick on the page.

import { setText } from '../lib/dom.js';
import { duration } from '../lib/util.js';
import { ageLevel, LEVEL_TEXT } from '../lib/chat-time.js';

/**
 * @typedef {object} Figures
 * @property {number} waiting
 * @property {string | null} longest_wait_since
 * @property {number} answered
 * @property {number} answered_in_time
 * @property {number} abandoned
 * @property {number | null} service_level
 * @property {number | null} average_wait_seconds
 * @property {number | null} average_handling_seconds
 */

/**
 * @typedef {Figures & {id: number, name: string, service_level_seconds: number, chat_time_limits: number[]}} QueueFigures
 */

/**
 * @typedef {object} Waiting
 * @property {number} conversation_id
 * @property {number} queue_id
 * @property {string} name
 * @property {string} email
 * @property {string} state
 * @property {string} queued_at
 */

/**
 * @typedef {object} LiveChat
 * @property {number} conversation_id
 * @property {number} queue_id
 * @property {string} customer_name
 * @property {string} since
 * @property {boolean} wrap_up
 * @property {boolean} lead
 */

/**
 * @typedef {object} Agent
 * @property {number} id
 * @property {string} name
 * @property {string} role
 * @property {string} status
 * @property {string} reason
 * @property {string | null} since
 * @property {boolean} online
 * @property {number} open_chats
 * @property {number} capacity
 * @property {string | null} idle_since
 * @property {number} idle_limit_seconds
 * @property {LiveChat[]} chats
 */

/**
 * @typedef {object} Snapshot
 * @property {string} at
 * @property {string} day
 * @property {string} time_zone
 * @property {QueueFigures[]} queues
 * @property {Figures} total
 * @property {Waiting[]} waiting
 * @property {Agent[]} agents
 */

/** The floor the console shows: the last snapshot and the server's clock. */
export class FloorView {
  constructor() {
    /** @type {Snapshot | null} */
    this.snap = null;
    /** server time minus this browser's, in ms */
    this.skewMs = 0;
    /** @type {Map<number, QueueFigures>} */
    this.queues = new Map();
  }

  /** @param {Snapshot} snap */
  set(snap) {
    this.snap = snap;
    const at = Date.parse(snap.at);
    if (Number.isFinite(at)) this.skewMs = at - Date.now();
    this.queues = new Map(snap.queues.map((q) => [q.id, q]));
  }

  /** Time since an instant of the server's, in ms. @param {string | null} iso */
  since(iso) {
    const t = iso ? Date.parse(iso) : NaN;
    return Number.isFinite(t) ? Math.max(0, Date.now() + this.skewMs - t) : 0;
  }

  /** @param {number} queueId */
  limits(queueId) {
    return this.queues.get(queueId)?.chat_time_limits;
  }
}

/**
 * An age that ticks: its text is the time since iso (tick updates it).
 * @param {HTMLElement} node
 * @param {string | null} iso
 * @param {number[]} [limits] chat_time_limits: the node is coloured by them
 */
export function ticking(node, iso, limits) {
  if (!iso) return node;
  node.dataset.since = iso;
  if (limits) node.dataset.limits = limits.join(',');
  return node;
}

/**
 * Updates every ticking age under root.
 * @param {ParentNode} root
 * @param {FloorView} view
 */
export function tick(root, view) {
  for (const node of root.querySelectorAll('[data-since]')) {
    const el = /** @type {HTMLElement} */ (node);
    const age = view.since(el.dataset.since ?? null);
    const target = el.querySelector('.age-text') ?? el;
    setText(target, duration(age));
    if (el.dataset.limits) {
      const level = ageLevel(age, el.dataset.limits.split(',').map(Number));
      if (el.dataset.level !== level) {
        el.dataset.level = level;
        const note = el.querySelector('.age-level');
        if (note) setText(note, LEVEL_TEXT[level] ? ` (${LEVEL_TEXT[level]})` : '');
      }
    }
  }
  for (const node of root.querySelectorAll('[data-idle-since]')) {
    const el = /** @type {HTMLElement} */ (node);
    const idle = view.since(el.dataset.idleSince ?? null) > Number(el.dataset.idleLimit) * 1000;
    if (el.hidden === idle) el.hidden = !idle;
  }
}
