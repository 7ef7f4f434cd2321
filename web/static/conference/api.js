// @ts-check
// The conference page's HTTP calls (docs/protocol.md, "Conference (HTTP)"
// and GET /api/me), each turned into data or a ConferenceError whose
// message can be shown to a person as it is.

import { sentence } from '../lib/util.js';

/**
 * @typedef {{id: number, username: string, name: string, role: string}} Me
 * @typedef {{id: number, name: string, role: string, online: boolean}} Colleague
 * @typedef {{id: string, number: string, name: string, ended: boolean}} FoundRoom
 * @typedef {{token: string, room: import('../lib/types.js').Room, expires_at: string}} GuestPass
 */

/** A refused or failed request; `message` is for people. */
export class ConferenceError extends Error {
  /**
   * @param {string} code the server's code, or "network"
   * @param {string} message
   * @param {number} status HTTP status, 0 when there was none
   */
  constructor(code, message, status) {
    super(message);
    this.name = 'ConferenceError';
    this.code = code;
    this.status = status;
  }
}

export const NO_SUCH_ROOM = 'This room does not exist.';
export const ROOM_ENDED = 'This room has ended.';
const UNREACHABLE = 'Parley cannot be reached right now. Check your connection and try again.';

/**
 * The signed-in user, or null for a guest (no session).
 * @returns {Promise<Me | null>}
 */
export async function me() {
  const res = await call('GET', '/api/me');
  if (res.status === 401) return null;
  if (!res.ok) throw await failure(res);
  return /** @type {Me} */ (await res.json());
}

/**
 * The colleagues the signed-in user may invite.
 * @returns {Promise<Colleague[]>}
 */
export async function colleagues() {
  const res = await call('GET', '/api/users');
  if (!res.ok) throw await failure(res);
  const body = await res.json();
  return Array.isArray(body?.users) ? body.users : [];
}

/**
 * The room with this number.
 * @param {string} number digits only
 * @returns {Promise<FoundRoom>}
 */
export async function lookup(number) {
  const res = await call('POST', '/api/conference/lookup', { number });
  if (!res.ok) throw await failure(res);
  const { room } = await res.json();
  if (room?.ended) throw new ConferenceError('gone', ROOM_ENDED, 410);
  return /** @type {FoundRoom} */ (room);
}

/**
 * A guest token for the room with this number.
 * @param {string} number digits only
 * @param {string} name the guest's name
 * @returns {Promise<GuestPass>}
 */
export async function guestPass(number, name) {
  const res = await call('POST', '/api/conference/guest', { number, name });
  if (!res.ok) throw await failure(res);
  return /** @type {GuestPass} */ (await res.json());
}

/**
 * @param {string} method
 * @param {string} path
 * @param {object} [body]
 * @returns {Promise<Response>}
 */
async function call(method, path, body) {
  try {
    return await fetch(path, {
      method,
      headers: body ? { 'Content-Type': 'application/json', Accept: 'application/json' } : { Accept: 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
      cache: 'no-store',
    });
  } catch {
    throw new ConferenceError('network', UNREACHABLE, 0);
  }
}

/**
 * The error a refused answer means, in words for people: a wrong number and
 * an ended room in the page's own words, anything else (the rate limit
 * above all, which says when to try again) in the server's.
 * @param {Response} res
 * @returns {Promise<ConferenceError>}
 */
async function failure(res) {
  /** @type {{code?: string, message?: string}} */
  let error = {};
  try {
    error = (await res.json())?.error ?? {};
  } catch {
    // not JSON: a proxy's page
  }
  const code = error.code ?? `http_${res.status}`;
  if (res.status === 404) return new ConferenceError(code, NO_SUCH_ROOM, 404);
  if (res.status === 410) return new ConferenceError(code, ROOM_ENDED, 410);
  if (res.status === 429) {
    const retry = Number(res.headers.get('Retry-After'));
    const fallback = retry > 0 ? `Too many attempts. Try again in ${retry} seconds.` : 'Too many attempts. Try again later.';
    return new ConferenceError(code, error.message || fallback, 429);
  }
  if (res.status === 503) return new ConferenceError(code, error.message || UNREACHABLE, 503);
  const text = error.message || `Parley answered HTTP ${res.status}. Try again in a moment.`;
  return new ConferenceError(code, sentence(text), res.status);
}
