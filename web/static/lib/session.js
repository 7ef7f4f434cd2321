// @ts-check
// A signed-in page's session: who is signed in (GET /api/me), leaving for
// the sign-in page when nobody is, and the Sign out button. The desk and
// the supervisor console share it.

/** @typedef {{id?: number, username?: string, role?: string}} Me */

export class PageSession {
  /**
   * @param {import('./parley.js').Connection | null} conn the page's connection, closed on leaving (null for a page without one)
   * @param {string} path the page's own path, where the sign-in page sends the user back
   */
  constructor(conn, path) {
    this.conn = conn;
    this.login = '/login?next=' + encodeURIComponent(path);
    /** signing out or signed out: no more checks or redirects */
    this.leaving = false;
  }

  /**
   * Who is signed in. When nobody is (the session ended: signed out in
   * another tab, expired), it leaves for the sign-in page and gives null.
   * When the server cannot be asked it gives {}: the connection says so
   * and keeps trying.
   * @returns {Promise<Me | null>}
   */
  async check() {
    try {
      const res = await fetch('/api/me', { headers: { Accept: 'application/json' } });
      if (res.status === 401) {
        this.leave(this.login, true);
        return null;
      }
      if (res.ok) return /** @type {Me} */ (await res.json());
    } catch {
      // The server is unreachable.
    }
    return {};
  }

  /**
   * Makes button sign out: on the server, then the sign-in page.
   * @param {HTMLButtonElement} button
   * @param {(message: string) => void} failed shows why it could not
   */
  signOutWith(button, failed) {
    button.addEventListener('click', async () => {
      button.disabled = true;
      this.leaving = true;
      try {
        const res = await fetch('/api/logout', { method: 'POST' });
        if (!res.ok && res.status !== 401) throw new Error(`HTTP ${res.status}`);
      } catch (err) {
        failed(`Could not sign out (${err instanceof Error ? err.message : err}). Try again.`);
        this.leaving = false;
        button.disabled = false;
        return;
      }
      this.leave('/login', false);
    });
  }

  /**
   * Closes the connection and goes to url, once.
   * @param {string} url
   * @param {boolean} replace replace this page in the history (a redirect), or add to it
   */
  leave(url, replace) {
    if (this.leaving && replace) return;
    this.leaving = true;
    this.conn?.close();
    if (replace) location.replace(url);
    else location.assign(url);
  }
}
