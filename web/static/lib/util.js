// @ts-check
// Helpers shared by the pages that know nothing of any one page: storage
// that never throws, message ids, backoff, times and durations as people
// read them, room numbers as people read them, what to tell a person about
// a failed request, and the server's clock.

import { ProtocolError } from './parley.js';

/**
 * @typedef {object} Store
 * @property {(key: string) => string | null} get
 * @property {(key: string, value: string) => void} set
 * @property {(key: string) => void} remove
 */

/**
 * Web storage that never throws (it does when a browser blocks storage in
 * third-party frames); blocked, it lasts as long as the page.
 * @param {'localStorage' | 'sessionStorage'} which
 * @returns {Store}
 */
export function storageOf(which) {
  /** @type {Storage | null} */
  let store = null;
  try {
    store = window[which];
    store.getItem('parley');
  } catch {
    store = null;
  }
  /** @type {Map<string, string>} */
  const memory = new Map();
  return {
    get(k) {
      try {
        return store ? store.getItem(k) : memory.get(k) ?? null;
      } catch {
        return memory.get(k) ?? null;
      }
    },
    set(k, v) {
      memory.set(k, v);
      try {
        store?.setItem(k, v);
      } catch {
        // full or blocked: the memory copy serves this page
      }
    },
    remove(k) {
      memory.delete(k);
      try {
        store?.removeItem(k);
      } catch {
        // blocked
      }
    },
  };
}

/**
 * Exponential backoff with jitter on the upper half.
 * @param {number} attempt 0, 1, 2…
 * @param {number} [minMs]
 * @param {number} [maxMs]
 */
export function backoff(attempt, minMs = 1000, maxMs = 30000) {
  return Math.min(maxMs, minMs * 2 ** attempt) * (1 + Math.random() * 0.5);
}

/** "0:42", "12:05", "1:02:09". @param {number} ms */
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** "a valid e-mail address is required" → "A valid e-mail address is required." @param {string} s */
export function sentence(s) {
  const t = s.trim();
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.');
}

/**
 * A message's client_id, unique per sender and conversation: the prefix
 * says which page made it ("m" the widget, "d" the desk).
 * @param {string} prefix
 */
export function newClientId(prefix) {
  if (typeof crypto.randomUUID === 'function') return `${prefix}-${crypto.randomUUID()}`;
  // randomUUID needs a secure context, which plain-http setups lack.
  const b = crypto.getRandomValues(new Uint8Array(16));
  return `${prefix}-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
}

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Local time of day, e.g. "17:30" or "5:30 PM"; "" for a bad time. @param {string} iso */
export function clock(iso) {
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? '' : t.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
}

/** Local time of day as HH:MM ("" for a bad time). @param {string} iso */
export function hhmm(iso) {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return '';
  return `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`;
}

/** "21 Nov 2026" ("" for a bad time). @param {string} iso */
export function day(iso) {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return '';
  return t.toLocaleDateString([], { day: 'numeric', month: 'short', year: 'numeric' });
}

/**
 * A connection's state as a page shows it.
 * @type {Record<import('./parley.js').State, string>}
 */
export const STATE_TEXT = {
  connecting: 'Connecting…',
  open: 'Connected',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected',
};

/**
 * What to tell a person about a failed request.
 * @param {unknown} err
 * @returns {string}
 */
export function errorText(err) {
  if (err instanceof ProtocolError) {
    if (err.code === 'disconnected') return 'Not connected to Parley. Try again once the page says Connected.';
    if (err.code === 'timeout') return 'Parley did not answer in time. Try again.';
    return sentence(err.message || err.code);
  }
  return sentence(err instanceof Error ? err.message : String(err));
}

/**
 * Whether err is the socket going away (the next hello takes over).
 * @param {unknown} err
 */
export function isDisconnected(err) {
  return err instanceof ProtocolError && err.code === 'disconnected';
}

/**
 * The server's clock, as far as this browser can tell (session.ping):
 * waiting times and offer deadlines are the server's times.
 */
export class ServerClock {
  constructor() {
    /** server time minus this browser's, in ms */
    this.skewMs = 0;
  }

  /** Now, in ms, by the server's clock. */
  now() {
    return Date.now() + this.skewMs;
  }

  /**
   * Time since an instant of the server's, in ms (0 for a bad time).
   * @param {string} iso
   */
  since(iso) {
    const t = Date.parse(iso);
    return Number.isFinite(t) ? Math.max(0, this.now() - t) : 0;
  }

  /**
   * Time until an instant of the server's, in ms (0 when past or bad).
   * @param {string} iso
   */
  until(iso) {
    const t = Date.parse(iso);
    return Number.isFinite(t) ? Math.max(0, t - this.now()) : 0;
  }

  /**
   * Measures the skew with one session.ping; a failure keeps the last.
   * @param {import('./parley.js').Connection} conn
   */
  async measure(conn) {
    const sent = Date.now();
    try {
      const pong = /** @type {{time: string}} */ (await conn.request('session.ping'));
      const server = Date.parse(pong.time);
      if (Number.isFinite(server)) this.skewMs = server - (sent + Date.now()) / 2;
    } catch {
      // keep the last measure
    }
  }
}

/**
 * A room number as people read it aloud: "4819027736" → "481 902 7736".
 * @param {string} number
 */
export function spaced(number) {
  return number.replace(/(\d{3})(?=\d{4,})/g, '$1 ');
}
