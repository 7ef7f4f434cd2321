// @ts-check
// Helpers shared by the pages that know nothing of any one page: storage
// that never throws, message ids, backoff, durations as people read them.

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
