// @ts-check
// Small helpers of the chat widget that know nothing of the page.

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

/** A message's client_id: unique per sender and conversation. */
export function newClientId() {
  if (typeof crypto.randomUUID === 'function') return `m-${crypto.randomUUID()}`;
  // randomUUID needs a secure context, which plain-http setups lack.
  const b = crypto.getRandomValues(new Uint8Array(16));
  return `m-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
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

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** "0:42", "12:05", "1:02:09". @param {number} ms */
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Local time of day, e.g. "17:30" or "5:30 PM"; "" for a bad time. @param {string} iso */
export function clock(iso) {
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? '' : t.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
}

/** "a valid e-mail address is required" → "A valid e-mail address is required." @param {string} s */
export function sentence(s) {
  const t = s.trim();
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.');
}

/**
 * Whether a colour is light enough to need dark text on it (white on it
 * would have a contrast below 3:1).
 * @param {string} color any CSS colour; only #rgb and #rrggbb are measured
 */
export function isLight(color) {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (!m) return false;
  const hex = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
  const [r, g, b] = [0, 2, 4].map((i) => {
    const v = parseInt(hex.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return 1.05 / (luminance + 0.05) < 3;
}
