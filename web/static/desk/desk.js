// @ts-check
// The agent desk (/desk): who is signed in, the connection, the agent's
// status, offers, the waiting list and the agent's chats in tabs. It speaks
// docs/protocol.md through the one client, parley.js; after every hello it
// asks again for everything it follows (agent.state, queue.waiting,
// chat.mine and a chat.resume per open chat).

import { Connection } from '../lib/parley.js';
import { PageSession } from '../lib/session.js';
import { byId, el, setText } from '../lib/dom.js';
import { Alerts } from './alerts.js';
import { Chats } from './chats.js';
import { ContactCard } from './contact.js';
import { colourChatTimes } from './chat-time.js';
import { DeskTimers } from './timers.js';
import { Notices } from './notices.js';
import { Offers } from './offers.js';
import { DeskRoom } from './room.js';
import { DeskMonitor } from './monitor.js';
import { Invites } from './invites.js';
import { CommentBox } from './comments.js';
import { Mentions } from './mentions.js';
import { StatusControl } from './status.js';
import { Team } from './team.js';
import { Supervised } from './supervised.js';
import { TeamActions } from './team-actions.js';
import { TicketsView } from './ticket-view.js';
import { TicketWidget } from './ticket-widget.js';
import { backoff, errorText, isDisconnected, ServerClock, STATE_TEXT } from '../lib/util.js';
import { Waiting } from './waiting.js';

const SYNC_KEY = 'sync';

const whoami = byId('whoami');
const connState = byId('conn-state');
const signOut = /** @type {HTMLButtonElement} */ (byId('sign-out'));

const conn = new Connection({ client: 'desk/1' });
const clock = new ServerClock();
const notices = new Notices(byId('notices'));
const alerts = new Alerts(/** @type {HTMLButtonElement} */ (byId('sound-toggle')));
const status = new StatusControl(conn, notices);
const chats = new Chats({ conn, notices, alerts, status });
colourChatTimes(chats, status, clock);
new DeskTimers(chats, status, clock);
const rooms = new DeskRoom({
  conn,
  notices,
  alerts,
  chat: (id) => chats.sessions.get(id),
  active: () => chats.active,
});
const teamActions = new TeamActions({
  conn,
  notices,
  active: () => chats.active,
  chat: (id) => chats.sessions.get(id),
});
// ticketsView is made further down; the card opens tickets only once the page runs.
const contacts = new ContactCard({ conn, notices, openTicket: (id) => ticketsView.show(id) });
chats.onpane = (s) => {
  rooms.render(s);
  teamActions.render(s);
  contacts.show(s);
};
chats.onshown = (s, ev, news) => {
  teamActions.event(s, ev, news);
  contacts.event(s, ev);
};
const offers = new Offers({
  conn,
  root: byId('offers'),
  empty: byId('offers-empty'),
  clock,
  notices,
  alerts,
  accept: (id) => chats.accept(id),
});
const waiting = new Waiting({
  conn,
  root: byId('waiting'),
  empty: byId('waiting-empty'),
  count: byId('waiting-count'),
  clock,
  notices,
  accept: (id) => chats.accept(id),
  mayPickUp: (queueId) => status.queues.some((q) => q.id === queueId),
  alertList: byId('wait-alerts'),
  supervises: () => ['supervisor', 'admin'].includes(conn.hello?.principal.role ?? ''),
});

const session = new PageSession(conn, '/desk');
let syncGeneration = 0;

conn.onstate = (state) => {
  setText(connState, STATE_TEXT[state]);
  connState.dataset.state = state;
};

conn.onhello = (hello) => {
  const p = hello.principal;
  whoami.replaceChildren(el('span', { class: 'whoami-name' }, p.name), el('span', { class: 'role' }, p.role));
  notices.clear('refused');
  sync(++syncGeneration, 0);
};

// A socket refused before the upgrade says nothing about why. If it keeps
// failing because the session ended (signed out in another tab, expired),
// go to the sign-in page instead of retrying forever.
conn.onclose = () => {
  chats.offline();
  if (!session.leaving) void session.check();
};

// The server's bus may have lost events meant for this desk (offers, the
// waiting list, the agent's status): everything read after a hello is read
// again. (chats.js also checks its chats' positions; team.js its threads.)
conn.on('session.resync', () => sync(++syncGeneration, 0));
conn.on('chat.event', (ev) => chats.event(ev));
conn.on('chat.typing', (data) => chats.typing(data));
conn.on('chat.presence', (data) => chats.presenceChanged(data));
conn.on('chat.offer', (data) => offers.add(data));
conn.on('chat.offer_ended', (/** @type {{conversation_id: number, reason: string}} */ data) => {
  offers.end(data.conversation_id);
  if (data.reason === 'accepted') chats.adopt(data.conversation_id);
});
conn.on('chat.access_ended', (/** @type {{conversation_id: number, reason: string}} */ data) => {
  offers.end(data.conversation_id);
  teamActions.accessEnded(data.conversation_id, data.reason);
  chats.lost(data.conversation_id);
});
conn.on('queue.access_ended', (/** @type {{queue_id: number}} */ data) => waiting.dropQueue(data.queue_id));
conn.on('queue.entry', (data) => waiting.upsert(data.conversation));
conn.on('queue.entry_removed', (data) => waiting.remove(data.conversation_id));
conn.on('agent.status', (data) => status.apply(data));
conn.on('queue.settings', (data) => status.settings(data.queue));
conn.on('room.opened', (data) => rooms.opened(data));
new Invites({ conn, notices, alerts }); // after conn.onhello is set: it chains it
new DeskMonitor({ conn, notices, alerts, root: byId('monitor') });
const mentions = new Mentions({
  conn,
  root: byId('mentions'),
  notices,
  alerts,
  open: (id) => {
    const s = chats.sessions.get(id);
    if (s) chats.activate(s, false);
    return s !== undefined;
  },
}); // chains conn.onhello too
byId('comment-slot').append(new CommentBox({ conn, conversation: () => chats.active?.id ?? null }).form);
const team = new Team({ conn, notices, alerts }); // chains conn.onhello and conn.onclose too
const supervised = new Supervised({ conn, notices, adopt: (id) => chats.adopt(id) }); // chains conn.onclose
const ticketsView = new TicketsView({ conn, notices }); // chains conn.onhello
new TicketWidget({ conn, notices, chats, open: (id) => ticketsView.show(id) }); // chains chats.onpane, chats.onshown, conn.onhello

// Every second: the live times, and the count of what waits for the agent
// (offers, unread messages) in the page's title, seen from other tabs.
const TITLE = document.title;
setInterval(() => {
  offers.tick();
  waiting.tick();
  mentions.badges();
  const n = offers.cards.size + chats.unreadCount() + team.unreadCount() + mentions.count();
  const title = n ? `(${n}) ${TITLE}` : TITLE;
  if (document.title !== title) document.title = title;
}, 1000);

session.signOutWith(signOut, (message) => notices.show(message));

start();

async function start() {
  if (!(await session.check())) return;
  try {
    await conn.connect();
  } catch (err) {
    // It keeps reconnecting by itself unless the server refused the hello.
    if (conn.state === 'closed') notices.show(`Parley refused this desk: ${errorText(err)}`, { key: 'refused' });
  }
}

/**
 * After a hello: everything the desk follows, asked for again. What fails
 * for a reason other than the socket going (the database did not answer)
 * is tried again with backoff, as long as this connection lasts.
 * @param {number} gen
 * @param {number} attempt
 */
function sync(gen, attempt) {
  void clock.measure(conn).then(() => offers.tick());
  const asked = offers.mark(); // what the answers below were read too early to know, they leave alone
  const work = [
    status.load().then((state) => {
      supervised.status(state);
      // Pending offers: a card for each one whose chat.offer never came
      // (the bus lost it) or came before a reload.
      for (const o of state.offers ?? []) offers.add(o, asked);
      return waiting.refresh();
    }),
    waiting.load().then((entries) => offers.reconcile(entries, asked)),
    chats.sync(),
  ];
  Promise.allSettled(work).then((results) => {
    if (gen !== syncGeneration) return;
    const failed = results.find((r) => r.status === 'rejected' && !isDisconnected(r.reason));
    if (!failed) {
      notices.clear(SYNC_KEY);
      return;
    }
    const reason = /** @type {PromiseRejectedResult} */ (failed).reason;
    console.warn('parley desk: loading failed, trying again', reason);
    notices.show(`Could not load the desk: ${errorText(reason)} Trying again…`, { key: SYNC_KEY });
    setTimeout(() => {
      if (gen === syncGeneration && conn.ready) sync(gen, attempt + 1);
    }, backoff(attempt));
  });
}
