// @ts-check
// The conference page (/external/conference): signed-in users start rooms
// (inviting colleagues) and join them by number; anyone with the link
// (/external/conference/#NUMBER) or the number joins, guests after giving
// their name (a token for that one room, POST /api/conference/guest). It
// speaks docs/protocol.md ("Rooms", "rtc.*", "Conference (HTTP)") through
// parley.js, and shows the room with room.js and room/view.js.

import { Connection } from '../lib/parley.js';
import { byId, el, setText } from '../lib/dom.js';
import { sentence, spaced, STATE_TEXT, storageOf } from '../lib/util.js';
import { ConferenceError, NO_SUCH_ROOM, ROOM_ENDED, guestPass, lookup, me } from './api.js';
import { Lobby } from './lobby.js';
import { ConferenceRoom } from './room.js';
import { numberInAddress, setAddress } from './address.js';

/**
 * @typedef {import('./api.js').Me} Me
 * @typedef {import('../lib/types.js').Room} Room
 * @typedef {{roomId: string, number: string, conn: Connection}} Last the last room this page was in
 * @typedef {import('./api.js').GuestPass} GuestPass
 * @typedef {{pass: GuestPass, conn: Connection}} Ready a guest's token and its socket, its hello answered
 * @typedef {{number: string, name: string, taken: boolean, ready: Promise<Ready | null>}} Early
 *   what a guest will join with, made before the click on Join: null when it failed
 */

/**
 * How long after the last keystroke in the guest's name the token and the
 * socket are made for it (each name typed makes a token: not one a key).
 */
const EARLY_AFTER_MS = 250;

const NAME_KEY = 'parley.conference.name';
const TITLE = document.title;
const NOTICE_MS = 12_000;

const loading = byId('conf-loading');
const guestSection = byId('guest');
const guestForm = /** @type {HTMLFormElement} */ (byId('guest-form'));
const guestName = /** @type {HTMLInputElement} */ (byId('guest-name'));
const guestError = byId('guest-error');
const guestJoin = /** @type {HTMLButtonElement} */ (byId('guest-join'));
const overSection = byId('over');
const overTitle = byId('over-title');
const overText = byId('over-text');
const overRejoin = /** @type {HTMLButtonElement} */ (byId('over-rejoin'));
const connState = byId('conn-state');
const whoami = byId('whoami');
const signIn = /** @type {HTMLAnchorElement} */ (byId('sign-in'));
const notices = byId('conf-notices');
const names = storageOf('localStorage');

/** @type {Me | null} the signed-in user; null for a guest */
let user = null;
/** @type {Connection | null} signed in: the page's one socket; a guest: the socket of its room's token */
let conn = null;
/** @type {ConferenceRoom | null} */
let current = null;
/** @type {Last | null} */
let last = null;
/** rooms made in this tab: their creator may end them */
const created = new Set();
/** a join or create is under way: the address changing must not start another */
let working = false;
/** the number the guest form is for */
let guestNumber = '';
/** @type {Early | null} a guest's token and socket, made while the guest form is open */
let early = null;
/** @type {ReturnType<typeof setTimeout> | null} */
let earlyTimer = null;
/** sockets made ahead whose state the topbar does not show (the guest has not joined) */
const unshown = new WeakSet();

const lobby = new Lobby({
  create: ({ name, invite }) =>
    run(async () => {
      const c = await signedInConn();
      const answer = /** @type {{room: Room}} */ (await c.request('room.create', { name, invite }));
      created.add(answer.room.id);
      lobby.reset();
      await enter(c, answer.room.id, answer.room.number ?? '');
    }).catch(rethrow),
  join: ({ number, name }) => run(() => (user ? joinSignedIn(number) : joinAsGuest(number, name))).catch(rethrow),
});

guestForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  guestError.hidden = true;
  const name = guestName.value.trim();
  if (!name) {
    showError(guestError, 'Enter your name, as the others will see it.');
    guestName.focus();
    return;
  }
  guestJoin.disabled = true;
  setText(guestJoin, 'Joining…');
  try {
    await run(() => joinAsGuest(guestNumber, name));
  } catch (err) {
    showError(guestError, messageOf(err));
  } finally {
    guestJoin.disabled = false;
    setText(guestJoin, 'Join');
  }
});
guestForm.addEventListener('input', () => (guestError.hidden = true));
guestName.addEventListener('input', () => {
  if (earlyTimer !== null) clearTimeout(earlyTimer);
  earlyTimer = setTimeout(() => {
    earlyTimer = null;
    if (!guestSection.hidden) prepareGuest(guestNumber, guestName.value.trim());
  }, EARLY_AFTER_MS);
});

overRejoin.addEventListener('click', async () => {
  if (!last) return;
  const { roomId, number, conn: c } = last;
  overRejoin.disabled = true;
  try {
    // A guest's token admits it to this room for hours: no new name needed.
    if (c.ready) await run(() => enter(c, roomId, number));
    else route();
  } catch (err) {
    showOver(titleOf(err), messageOf(err), false);
  } finally {
    overRejoin.disabled = false;
  }
});

window.addEventListener('hashchange', () => {
  if (working) return;
  const number = numberInAddress();
  if (current && current.number === number) return;
  if (current) {
    // Another room's link pasted in this tab: leave this one for it.
    const leaving = current;
    current = null;
    void leaving.leave().then(route);
    return;
  }
  route();
});

void start();

async function start() {
  try {
    user = await me();
  } catch (err) {
    showOver('Parley cannot be reached', messageOf(err), false);
    return;
  }
  if (user) {
    whoami.replaceChildren(el('span', { class: 'whoami-name' }, user.name), el('span', { class: 'role' }, user.role));
    whoami.hidden = false;
    conn = connect();
    // A failed first attempt keeps retrying in the background (the topbar
    // says so); a refusal closes it, and signedInConn() says why.
    conn.connect().catch(() => {});
  } else {
    signIn.hidden = false;
  }
  route();
}

/** Shows what the address asks for: a room (#NUMBER), or the start page. */
function route() {
  const number = numberInAddress();
  updateSignInLink();
  hideAll();
  dropEarly();
  if (!number) {
    document.title = TITLE;
    lobby.open({ signedIn: user !== null, selfId: user?.id, guestName: names.get(NAME_KEY) ?? '' });
    return;
  }
  if (user) {
    loading.hidden = false;
    run(() => joinSignedIn(number)).catch((err) => showOver(titleOf(err), messageOf(err), false));
  } else {
    void showGuest(number);
  }
}

/**
 * A guest opened a room's link: check the number, then ask for a name.
 * @param {string} number
 */
async function showGuest(number) {
  loading.hidden = false;
  /** @type {import('./api.js').FoundRoom} */
  let room;
  try {
    room = await lookup(number);
  } catch (err) {
    showOver(titleOf(err), messageOf(err), false);
    return;
  }
  hideAll();
  guestNumber = number;
  setText(byId('guest-room-name'), room.name);
  setText(byId('guest-room-number'), spaced(number));
  document.title = `${room.name || 'Conference'} · Parley`;
  guestError.hidden = true;
  if (!guestName.value) guestName.value = names.get(NAME_KEY) ?? '';
  guestSection.hidden = false;
  guestName.focus();
  prepareGuest(number, guestName.value.trim());
}

/**
 * Gets a guest's token and opens its socket while the guest reads the
 * room's page and types their name, so that the click on Join only has
 * the room to join. Nothing of the room is touched: the server sees a
 * socket that said hello. A name changed since makes them again (the
 * token carries the name), and the earlier socket is closed.
 * @param {string} number
 * @param {string} name
 */
function prepareGuest(number, name) {
  if (early && early.number === number && early.name === name) return;
  dropEarly();
  if (!number || !name) return;
  /** @type {Early} */
  const e = { number, name, taken: false, ready: Promise.resolve(null) };
  e.ready = (async () => {
    const pass = await guestPass(number, name).catch(() => null);
    if (!pass || (early !== e && !e.taken)) return null;
    const c = connect(pass.token);
    unshown.add(c);
    try {
      await c.connect();
    } catch {
      c.close();
      return null;
    }
    if (early !== e && !e.taken) {
      c.close();
      return null;
    }
    return { pass, conn: c };
  })();
  early = e;
}

/** Closes what prepareGuest made, if nobody took it. */
function dropEarly() {
  const e = early;
  early = null;
  if (e && !e.taken) void e.ready.then((r) => r?.conn.close());
}

/**
 * What prepareGuest made for this number and name, once ready; null when
 * nothing was made for them, or it failed (the join then does it all, and
 * says what went wrong).
 * @param {string} number
 * @param {string} name
 * @returns {Promise<Ready | null>}
 */
async function takeEarly(number, name) {
  const e = early;
  if (!e || e.number !== number || e.name !== name) {
    dropEarly();
    return null;
  }
  early = null;
  e.taken = true;
  const got = await e.ready;
  if (got && !got.conn.ready) {
    got.conn.close();
    return null;
  }
  if (got) {
    unshown.delete(got.conn);
    got.conn.onstate?.(got.conn.state);
  }
  return got;
}

/**
 * A signed-in user joins by number.
 * @param {string} number
 */
async function joinSignedIn(number) {
  const c = await signedInConn();
  const room = await lookup(number);
  await enter(c, room.id, room.number || number);
}

/**
 * A guest joins by number: a token for that room, a socket with it (both
 * made already when prepareGuest could), in.
 * @param {string} number
 * @param {string} name
 */
async function joinAsGuest(number, name) {
  const got = await takeEarly(number, name);
  const pass = got?.pass ?? (await guestPass(number, name));
  names.set(NAME_KEY, name);
  const c = got?.conn ?? connect(pass.token);
  if (!got) {
    try {
      await c.connect();
    } catch (err) {
      c.close();
      throw new Error(`Could not connect to Parley: ${messageOf(err)}`);
    }
  }
  try {
    await enter(c, pass.room.id, pass.room.number ?? number);
  } catch (err) {
    c.close();
    throw err;
  }
  if (conn && conn !== c) conn.close(); // an earlier room's token
  conn = c;
  whoami.replaceChildren(el('span', { class: 'whoami-name' }, name), el('span', { class: 'role' }, 'guest'));
  whoami.hidden = false;
}

/**
 * Joins a room on a connected socket and shows it.
 * @param {Connection} c
 * @param {string} roomId
 * @param {string} number
 */
async function enter(c, roomId, number) {
  if (current) {
    const leaving = current;
    current = null;
    await leaving.leave();
  }
  const room = new ConferenceRoom({
    conn: c,
    roomId,
    number,
    mayEnd: created.has(roomId),
    onOver: (reason, message) => {
      if (current !== room) return;
      current = null;
      if (reason === 'left') showOver('You left the room', '', true);
      else if (reason === 'removed') showOver('You are no longer in the room', message, true);
      else if (reason === 'failed') showOver('The call could not be set up', message, true);
      else {
        // A guest's token was for this room only: its socket has nothing left to do.
        if (!user) {
          c.close();
          connState.hidden = true;
          last = null;
        }
        showOver(ROOM_ENDED.replace(/\.$/, ''), message, false);
      }
    },
  });
  current = room;
  try {
    const answer = await room.enter();
    if (!room.mayEnd && createdByMe(answer.room)) room.setMayEnd(true);
  } catch (err) {
    if (current === room) current = null;
    room.close();
    throw err;
  }
  last = { roomId, number, conn: c };
  setAddress(number);
  updateSignInLink();
  hideAll();
}

/**
 * Whether the signed-in user made this room, as far as the room tells:
 * by the creator's id when the server sends one, else by name and role
 * (the server decides in the end: room.end by anyone else is refused).
 * @param {Room} room
 */
function createdByMe(room) {
  if (!user || !room?.created_by) return false;
  const by = /** @type {{kind: string, name: string, id?: unknown}} */ (room.created_by);
  if (by.id !== undefined && by.id !== null) return String(by.id) === String(user.id) || String(by.id) === `user:${user.id}`;
  return by.name === user.name && by.kind === user.role;
}

/**
 * The page's socket, for a signed-in user, once it is ready.
 * @returns {Promise<Connection>}
 */
async function signedInConn() {
  if (!conn) throw new Error('Sign in to start a conference.');
  if (conn.ready) return conn;
  if (conn.state === 'closed') {
    // Refused (or never started): one more try says why.
    await conn.connect().catch((err) => {
      throw new Error(`Could not connect to Parley: ${messageOf(err)}`);
    });
    return conn;
  }
  // Connecting or reconnecting: wait for it, a while.
  const c = conn;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Not connected to Parley. Try again in a moment.')), 10_000);
    const prev = c.onhello;
    c.onhello = (hello) => {
      c.onhello = prev;
      prev?.(hello);
      clearTimeout(timer);
      resolve(undefined);
    };
  });
  return c;
}

/**
 * A Connection with the page's handlers.
 * @param {string} [token] a guest's token; none: the session cookie
 */
function connect(token) {
  const c = new Connection({ token, client: 'conference/1' });
  c.onstate = (state) => {
    if ((c !== conn && conn !== null) || unshown.has(c)) return;
    setText(connState, STATE_TEXT[state]);
    connState.dataset.state = state;
    connState.hidden = false;
  };
  c.onhello = () => {
    if (current && current.conn === c) void current.rejoin();
  };
  c.on('room.declined', (/** @type {import('../lib/types.js').Declined} */ d) => {
    if (current?.roomId !== d.room_id) return;
    notice(`${d.user?.name ?? 'Someone'} declined the invitation.`, 'info');
  });
  c.on('room.invited', (/** @type {import('../lib/types.js').Invited} */ d) => {
    if (!d.room?.number || current?.roomId === d.room.id) return;
    const link = el('a', { href: `/external/conference/#${d.room.number}`, target: '_blank', rel: 'noopener' }, 'Join');
    notice(`${d.from?.name ?? 'A colleague'} invites you to “${d.room.name}”. `, 'info', link);
  });
  return c;
}

/**
 * Runs a join or create, so that the address changing meanwhile waits.
 * @param {() => Promise<void>} fn
 */
async function run(fn) {
  working = true;
  try {
    await fn();
  } finally {
    working = false;
  }
}

/**
 * Ended, left, or refused.
 * @param {string} title
 * @param {string} text
 * @param {boolean} rejoin offer "Join again"
 */
function showOver(title, text, rejoin) {
  hideAll();
  setText(overTitle, title);
  // "This room has ended" needs no second line saying the same.
  const same = text.replace(/\.$/, '') === title;
  setText(overText, same ? '' : text);
  overText.hidden = !text || same;
  overRejoin.hidden = !rejoin || !last;
  overSection.hidden = false;
  document.title = `${title} · Parley`;
  (rejoin && last ? overRejoin : /** @type {HTMLElement} */ (byId('over-start'))).focus();
}

function hideAll() {
  loading.hidden = true;
  lobby.close();
  guestSection.hidden = true;
  overSection.hidden = true;
}

function updateSignInLink() {
  const next = location.pathname + location.hash;
  const href = `/login?next=${encodeURIComponent(next)}`;
  signIn.href = href;
  /** @type {HTMLAnchorElement} */ (byId('guest-sign-in')).href = href;
  /** @type {HTMLAnchorElement} */ (byId('join-sign-in-link')).href = href;
}

/**
 * A notice over the page, gone after a while or when dismissed.
 * @param {string} text
 * @param {'error' | 'info'} kind
 * @param {Node} [extra]
 */
function notice(text, kind, extra) {
  const dismiss = el('button', { class: 'conf-notice-dismiss', type: 'button', 'aria-label': 'Dismiss' }, '×');
  const node = el(
    'div',
    { class: 'toast conf-notice', 'data-kind': kind, role: kind === 'error' ? 'alert' : 'status' },
    el('p', { class: 'conf-notice-text' }, text, extra),
    dismiss,
  );
  dismiss.addEventListener('click', () => node.remove());
  notices.append(node);
  setTimeout(() => node.remove(), NOTICE_MS);
}

/**
 * @param {HTMLElement} node
 * @param {string} text
 */
function showError(node, text) {
  setText(node, text);
  node.hidden = false;
}

/**
 * What to say about a failure, in a sentence.
 * @param {unknown} err
 */
function messageOf(err) {
  const e = /** @type {{code?: string, message?: string}} */ (err);
  if (e?.code === 'disconnected') return 'Not connected to Parley. Try again in a moment.';
  if (e?.code === 'timeout') return 'Parley did not answer in time. Try again.';
  if (e?.code === 'conflict' && /ended/i.test(e.message ?? '')) return ROOM_ENDED;
  return sentence(err instanceof Error ? err.message : String(err));
}

/**
 * The heading of a refused join.
 * @param {unknown} err
 */
function titleOf(err) {
  const msg = messageOf(err);
  if (msg === NO_SUCH_ROOM || msg === ROOM_ENDED) return msg.replace(/\.$/, '');
  if (err instanceof ConferenceError && err.status === 429) return 'Too many attempts';
  return 'Could not join the room';
}

/**
 * A failure, passed on in words for people (for the lobby to show).
 * @param {unknown} err
 * @returns {never}
 */
function rethrow(err) {
  throw new Error(messageOf(err));
}
