// @ts-check
// Small helpers of the agent desk that know nothing of its pages: storage
// that never throws, times as people read them, the server's clock.

import { ProtocolError } from '../lib/parley.js';
import { sentence } from '../lib/util.js';
export { backoff, duration, sentence, storageOf } from '../lib/util.js';

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
 * What to tell a person about a failed request.
 * @param {unknown} err
 * @returns {string}
 */
export function errorText(err) {
  if (err instanceof ProtocolError) {
    if (err.code === 'disconnected') return 'Not connected to Parley. Try again once the desk says Connected.';
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
   * @param {import('../lib/parley.js').Connection} conn
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
