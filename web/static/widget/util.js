// @ts-check
// Small helpers of the chat widget that know nothing of the page.
export { backoff, duration, sentence, storageOf } from '../lib/util.js';

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Local time of day, e.g. "17:30" or "5:30 PM"; "" for a bad time. @param {string} iso */
export function clock(iso) {
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? '' : t.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
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
