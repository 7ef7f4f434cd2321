// @ts-check
// The admin REST API (docs/protocol.md, "Administration") as the console
// calls it: JSON in and out, the session cookie, and errors that say
// which field the server refused.

/** An answer other than 2xx: the server's code and message, and the field the message names. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
    // A bad_request message starts with the field it is about: "capacity: 1–100 chats per agent".
    const m = /^([a-z_]+): /.exec(message);
    /** the settings field the message is about, or '' */
    this.field = code === 'bad_request' && m ? m[1] : '';
  }
}

/**
 * Calls the API: method and path, with body sent as JSON. Answers the
 * parsed JSON (null for an empty answer); throws ApiError when the server
 * refused, and a TypeError when it could not be reached.
 * @param {string} method
 * @param {string} path
 * @param {unknown=} body
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  /** @type {RequestInit} */
  const init = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers = { ...init.headers, 'Content-Type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  /** @type {any} */
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = data && data.error ? data.error : {};
    if (res.status === 401) location.replace('/login?next=' + encodeURIComponent(location.pathname));
    throw new ApiError(res.status, e.code || `http_${res.status}`, e.message || `HTTP ${res.status}`);
  }
  return data;
}
