// @ts-check
// The supervisor console (/supervisor): the live floor (queues, chats,
// agents) and the history, over the page's one connection. This file
// starts the page: who is signed in, the connection, the tabs; each part
// lives in its own module and is given a Ctx (types.js).

import { Connection } from '../lib/parley.js';
import { PageSession } from '../lib/session.js';
import { byId, el, setText } from '../lib/dom.js';
import { errorText, STATE_TEXT } from '../lib/util.js';
import { openChat, openFromHash } from './chat-pane.js';
import { mountHistory } from './history.js';
import { FloorView, tick } from './floor.js';
import { renderFigures } from './figures.js';
import { renderAgents, showAgent } from './agents.js';
import { Lists } from './lists.js';

const STAFF_ROLES = ['supervisor', 'admin'];

const whoami = byId('whoami');
const connState = byId('conn-state');
const noticesRoot = byId('notices');
const signOut = /** @type {HTMLButtonElement} */ (byId('sign-out'));
const tabs = {
  live: { button: /** @type {HTMLButtonElement} */ (byId('tab-live')), view: byId('live') },
  history: { button: /** @type {HTMLButtonElement} */ (byId('tab-history')), view: byId('history') },
};

const conn = new Connection({ client: 'supervisor/1' });
const session = new PageSession(conn, '/supervisor');
let mounted = false;

/** @type {import('./types.js').Ctx} */
const ctx = {
  conn,
  me: { id: 0, name: '', role: '' },
  notices: (text) => {
    const dismiss = el('button', { class: 'notice-dismiss', type: 'button', 'aria-label': 'Dismiss' }, '×');
    const node = el('div', { class: 'toast notice-item', role: 'alert' }, el('p', { class: 'notice-text' }, text), dismiss);
    dismiss.addEventListener('click', () => node.remove());
    noticesRoot.append(node);
  },
  openChat: (id) => openChat(ctx, id),
  panes: { chat: byId('chat-pane'), agent: byId('agent-pane'), ticket: byId('ticket-pane') },
};

const view = new FloorView();
const floorStatus = byId('floor-status');
const live = {
  figures: byId('figures'),
  lists: byId('lists'),
  agents: byId('agents'),
};
/** @param {number} id */
const chooseAgent = (id) => void showAgent(ctx, view, id);
const lists = new Lists(ctx, live.lists, view, chooseAgent);

/**
 * Shows a snapshot of the floor (the answer to supervisor.floor, or its
 * event).
 * @param {import('./floor.js').Snapshot} snap
 */
function showFloor(snap) {
  const before = view.snap;
  view.set(snap);
  // Say what appeared: a customer waiting, or nobody any more.
  if (before && before.total.waiting !== snap.total.waiting) {
    const n = snap.total.waiting;
    setText(floorStatus, n ? `${n} customer${n === 1 ? '' : 's'} waiting` : 'Nobody is waiting');
  }
  renderFigures(live.figures, view);
  lists.render();
  renderAgents(ctx, live.agents, view, chooseAgent);
  tick(tabs.live.view, view);
}

/** Asks for the floor and its updates (again after a reconnect or a resync). */
async function watchFloor() {
  try {
    showFloor(/** @type {import('./floor.js').Snapshot} */ (await conn.request('supervisor.floor')));
  } catch (err) {
    ctx.notices(`Could not load the floor: ${errorText(err)}`);
  }
}

conn.on('supervisor.floor', (data) => showFloor(/** @type {import('./floor.js').Snapshot} */ (data)));
conn.on('session.resync', () => void watchFloor());
// Ages tick on the page; the server pushes only changes.
setInterval(() => tick(tabs.live.view, view), 1000);

conn.onstate = (state) => {
  setText(connState, STATE_TEXT[state]);
  connState.dataset.state = state;
};

conn.onhello = (hello) => {
  const p = hello.principal;
  // principal.id is the principal's key, "user:3": the user id is its number.
  ctx.me = { id: Number(String(p.id).replace(/^user:/, "")), name: p.name, role: p.role };
  whoami.replaceChildren(el('span', { class: 'whoami-name' }, p.name), el('span', { class: 'role' }, p.role));
  byId('admin-link').hidden = p.role !== 'admin'; // the admin console, for admins only
  void watchFloor(); // again after every reconnect: the floor and its updates
  lists.tickets.reload(); // the tickets too, once shown: changes may have been missed
  if (!mounted) {
    mounted = true;
    mountHistory(ctx, tabs.history.view);
  }
  openFromHash(ctx); // a #chat=ID link opens that chat
};

conn.onclose = () => {
  if (!session.leaving) void session.check();
};

for (const [name, tab] of Object.entries(tabs)) {
  tab.button.addEventListener('click', () => show(name));
}

/** @param {string} name */
function show(name) {
  for (const [n, tab] of Object.entries(tabs)) {
    tab.button.setAttribute('aria-pressed', String(n === name));
    tab.view.hidden = n !== name;
  }
}

session.signOutWith(signOut, (message) => ctx.notices(message));

start();

async function start() {
  const me = await session.check();
  if (!me) return;
  if (me.role && !STAFF_ROLES.includes(me.role)) {
    session.leaving = true;
    tabs.live.view.replaceChildren(
      el('p', { class: 'sup-refused', role: 'alert' }, 'The supervisor console is for supervisors and admins. '),
      el('a', { href: '/desk' }, 'Go to the desk'),
    );
    return;
  }
  try {
    await conn.connect();
  } catch (err) {
    if (conn.state === 'closed') ctx.notices(`Parley refused this console: ${errorText(err)}`);
  }
}
