// @ts-check
// The widget's two HTTP calls (docs/protocol.md, "The widget (HTTP)"),
// each tried again with backoff until the server answers.

import { backoff, sleep } from '../lib/util.js';

/**
 * @typedef {import('./form.js').Fields} Fields
 * @typedef {{key: string, name: string, title: string, color: string, show_agent_name: boolean, fields: Fields, customer_calls?: boolean, feedback?: boolean, open?: boolean, offline_message?: string, unavailable_message?: string, offline_form?: boolean, file_max_bytes?: number, file_types?: string[], transcript_email?: string}} Settings
 * @typedef {import('../lib/util.js').Store} Store
 */

/**
 * GET /api/widget/{key}: the queue's public settings.
 * @param {string} key
 * @returns {Promise<Settings | null>} null: there is no such queue
 */
export async function loadSettings(key) {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`/api/widget/${encodeURIComponent(key)}`, {
        headers: { Accept: 'application/json' },
        cache: 'no-store',
      });
      if (res.status === 404) return null;
      if (res.ok) return /** @type {Settings} */ (await res.json());
    } catch {
      // offline, or the server is restarting
    }
    await sleep(backoff(attempt));
  }
}

/**
 * POST /api/widget/{key}/visitor: a visitor token, for the same visitor as
 * before while the one kept in store is good. The new one is kept.
 * @param {string} key
 * @param {Store} store
 * @param {string} storeKey
 * @param {(message: string) => void} onLimited told when the server says
 *   "too many" (it is asked again after its Retry-After)
 * @returns {Promise<string>}
 */
export async function visitorToken(key, store, storeKey, onLimited) {
  for (let attempt = 0; ; attempt++) {
    const old = store.get(storeKey);
    let wait = backoff(attempt);
    try {
      const res = await fetch(`/api/widget/${encodeURIComponent(key)}/visitor`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(old ? { token: old } : {}),
      });
      if (res.ok) {
        const body = /** @type {{token: string, expires_at: string}} */ (await res.json());
        store.set(storeKey, body.token);
        return body.token;
      }
      if (res.status === 429) {
        const body = await res.json().catch(() => null);
        wait = Math.max(1000, Number(res.headers.get('Retry-After')) * 1000 || 5000);
        onLimited(body?.error?.message ?? 'Too many chats from your address. Trying again soon.');
      }
    } catch {
      // out of reach: try again
    }
    await sleep(wait);
  }
}
