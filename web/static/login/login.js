// @ts-check
// The sign-in page: POST /api/login, then on to where the user was going.

import { byId, setText } from '../lib/dom.js';

const UNREACHABLE = 'Parley cannot reach its database right now. Try again in a moment.';

const form = /** @type {HTMLFormElement} */ (byId('login-form'));
const username = /** @type {HTMLInputElement} */ (byId('username'));
const password = /** @type {HTMLInputElement} */ (byId('password'));
const button = /** @type {HTMLButtonElement} */ (byId('sign-in'));
const alertBox = byId('login-error');

// A supervisor signed this user out (desk/supervised.js kept the close's
// reason, "Sam Supervisor signed you out"): say so until the form is used.
const signedOut = takeSignedOut();
if (signedOut) showError(`${signedOut}.`);

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (!username.value.trim() || !password.value) {
    showError('Enter your username and password.');
    (username.value.trim() ? password : username).focus();
    return;
  }
  busy(true);
  try {
    const res = await fetch('/api/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ username: username.value.trim(), password: password.value }),
    });
    if (res.ok) {
      /** @type {{user?: {role?: string}}} */
      const session = await res.json().catch(() => ({}));
      location.assign(nextPath(session.user?.role ?? ''));
      return; // stay busy while the next page loads
    }
    const message = await serverMessage(res);
    if (res.status === 401) {
      showError('Wrong username or password.');
      password.select();
    } else if (res.status === 429) {
      showError(message ?? 'Too many sign-in attempts. Try again in a moment.');
    } else if (res.status === 503) {
      showError(message ?? UNREACHABLE);
    } else {
      showError(message ?? `Sign-in failed (HTTP ${res.status}). Try again in a moment.`);
    }
  } catch {
    showError(UNREACHABLE); // the network failed: the server did not answer
  }
  busy(false);
});

// A new attempt hides the last error once the user edits the form.
form.addEventListener('input', () => {
  alertBox.hidden = true;
});

/**
 * Where to go after signing in: ?next= when it is a path on this site,
 * else the role's home: the supervisor console for supervisors and
 * admins, the desk for agents. "//evil.example" and "/\evil.example" are
 * other sites.
 * @param {string} role
 * @returns {string}
 */
function nextPath(role) {
  const home = role === 'supervisor' || role === 'admin' ? '/supervisor' : '/desk';
  const next = new URLSearchParams(location.search).get('next');
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return home;
  try {
    const url = new URL(next, location.origin);
    if (url.origin !== location.origin) return home;
    return url.pathname + url.search + url.hash;
  } catch {
    return home;
  }
}

/**
 * The message of an {"error": {"code", "message"}} body, if there is one.
 * @param {Response} res
 * @returns {Promise<string | null>}
 */
async function serverMessage(res) {
  try {
    const body = await res.json();
    const message = body?.error?.message;
    return typeof message === 'string' && message ? message : null;
  } catch {
    return null;
  }
}

/** @param {string} message */
function showError(message) {
  setText(alertBox, message);
  alertBox.hidden = false;
}

/** @param {boolean} on */
function busy(on) {
  button.disabled = on;
  setText(button, on ? 'Signing in…' : 'Sign in');
  form.setAttribute('aria-busy', String(on));
}

/**
 * Why the desk's session ended, if a supervisor ended it; read once.
 * @returns {string | null}
 */
function takeSignedOut() {
  try {
    const why = sessionStorage.getItem('parley.signed-out');
    sessionStorage.removeItem('parley.signed-out');
    return why;
  } catch {
    return null;
  }
}
