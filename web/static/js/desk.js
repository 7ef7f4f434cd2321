// @ts-check
// The agent desk. For now the shell: who is signed in, the state of the
// connection, and signing out. The chat desk comes later.

import { Connection } from './parley.js';
import { byId, el, setText } from './dom.js';

const LOGIN = '/login?next=' + encodeURIComponent('/desk');

/** @type {Record<import('./parley.js').State, string>} */
const STATE_TEXT = {
  connecting: 'Connecting…',
  open: 'Connected',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected',
};

const whoami = byId('whoami');
const connState = byId('conn-state');
const notice = byId('desk-notice');
const signOut = /** @type {HTMLButtonElement} */ (byId('sign-out'));

const conn = new Connection({ client: 'desk/1' });
let leaving = false; // signing out: no more session checks or redirects

conn.onstate = (state) => {
  setText(connState, STATE_TEXT[state]);
  connState.dataset.state = state;
};

conn.onhello = (hello) => {
  const p = hello.principal;
  whoami.replaceChildren(el('span', { class: 'whoami-name' }, p.name), el('span', { class: 'role' }, p.role));
  notice.hidden = true;
};

// A socket refused before the upgrade says nothing about why. If it keeps
// failing because the session ended (signed out in another tab, expired),
// go to the sign-in page instead of retrying forever.
conn.onclose = () => {
  if (!leaving) void checkSession();
};

signOut.addEventListener('click', async () => {
  signOut.disabled = true;
  leaving = true;
  try {
    const res = await fetch('/api/logout', { method: 'POST' });
    if (!res.ok && res.status !== 401) throw new Error(`HTTP ${res.status}`);
  } catch (err) {
    showNotice(`Could not sign out (${err instanceof Error ? err.message : err}). Try again.`);
    leaving = false;
    signOut.disabled = false;
    return;
  }
  conn.close();
  location.assign('/login');
});

start();

async function start() {
  if (!(await checkSession())) return;
  try {
    await conn.connect();
  } catch (err) {
    // It keeps reconnecting by itself unless the server refused the hello.
    if (conn.state === 'closed') showNotice(`Parley refused this desk: ${err instanceof Error ? err.message : err}`);
  }
}

/**
 * Asks whether we are still signed in; if not, leaves for the sign-in page.
 * @returns {Promise<boolean>} false when leaving
 */
async function checkSession() {
  try {
    const res = await fetch('/api/me', { headers: { Accept: 'application/json' } });
    if (res.status === 401) {
      if (!leaving) {
        leaving = true;
        conn.close();
        location.replace(LOGIN);
      }
      return false;
    }
  } catch {
    // The server is unreachable; the connection says so and keeps trying.
  }
  return true;
}

/** @param {string} message */
function showNotice(message) {
  setText(notice, message);
  notice.hidden = false;
}
