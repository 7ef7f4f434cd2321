// @ts-check
// The customer's chat widget: the page /widget/{key} that widget-loader.js
// frames on a company's site. It speaks the protocol through parley.js
// (docs/protocol.md, "Chat" and "The widget (HTTP)").
//
// Delivery, as the protocol asks: every event is shown once, in order. The
// highest seq shown is kept and anything at or below it is dropped; live
// events that arrive while a start or resume is being answered wait for
// that answer. The customer's messages wait in the outbox until the server
// acknowledges them, and are sent again, same client_id, in order, after
// every reconnect or reload (../lib/delivery.js). The seq is the
// customer's own numbering: a gap-free sequence of what it may see. Events
// the server lost on their way are fetched with chat.resume from the
// highest seq shown: when a live event comes past a gap, and when the
// position check (on session.resync, and every 15 seconds:
// ../lib/position.js) finds the conversation behind.
//
// Unread: an agent's message counts on the launcher's badge until the
// customer has had the window open with it on screen. What was seen (the
// conversation and the highest seq shown while open) is kept in
// localStorage, so a customer who closed the tab and comes back finds the
// badge counting what the agent wrote meanwhile.
//
// Everything from the server or the customer is shown as text (dom.js).

import { Connection, ProtocolError } from '../lib/parley.js';
import { byId, el, setText } from '../lib/dom.js';
import { loadSettings, visitorToken } from './api.js';
import { Prechat } from './form.js';
import { Delivery } from '../lib/delivery.js';
import { followPositions } from '../lib/position.js';
import { teamLine, Transcript } from './transcript.js';
import { Typing } from './typing.js';
import { WidgetRoom } from './room.js';
import { FeedbackForm } from './feedback.js';
import { TranscriptMailForm } from './transcript-mail.js';
import { QueueRules } from './closed.js';
import { OfflinePanel } from './offline.js';
import { backoff, clock, duration, newClientId, ServerClock, storageOf } from '../lib/util.js';
import { ComposeLimit } from '../lib/compose-limit.js';
import { EmojiPicker } from '../lib/emoji.js';
import { fileToken, setFileToken, showFiles, widgetAttachments } from './attach.js';
import { voiceRecorder } from './voice.js';
import { runPreview } from './preview.js';
import { Identity } from './identity.js';
import { QueuePlace } from './queue-position.js';
import { WidgetOptions } from './options.js';

/**
 * @typedef {import('./api.js').Settings} Settings
 * @typedef {import('../lib/types.js').Author} Author
 * @typedef {import('../lib/types.js').ChatEvent} ChatEvent
 * @typedef {import('../lib/types.js').Conversation} Conversation
 * @typedef {import('../lib/types.js').WithEvents} WithEvents
 * @typedef {{client_id: string, conversation_id: number, text: string, files?: import('../lib/files.js').FileRef[]}} Outgoing
 */

const CLIENT = 'widget/1';
const NOT_DELIVERED = 'Not delivered: the chat has ended.';

const key = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() ?? '');
const local = storageOf('localStorage');
const session = storageOf('sessionStorage');
const TOKEN_KEY = `parley.visitor.${key}`;
const OPEN_KEY = `parley.open.${key}`;
const CONVERSATION_KEY = `parley.conversation.${key}`;
const SEEN_KEY = `parley.seen.${key}`;

// The page.
const launcher = /** @type {HTMLButtonElement} */ (byId('parley-open'));
const win = byId('parley-window');
const subtitle = byId('parley-subtitle');
const endButton = /** @type {HTMLButtonElement} */ (byId('parley-end'));
const minimise = /** @type {HTMLButtonElement} */ (byId('parley-minimise'));
const connBanner = byId('parley-conn');
const reconnectButton = el('button', { class: 'conn-button', type: 'button' }, 'Reconnect');
const unreadBadge = byId('parley-unread');
const confirmBar = byId('parley-confirm');
const confirmText = byId('parley-confirm-text');
const confirmEnd = /** @type {HTMLButtonElement} */ (byId('parley-confirm-end'));
const confirmCancel = /** @type {HTMLButtonElement} */ (byId('parley-confirm-cancel'));
const statusLine = byId('parley-status');
const chatView = byId('parley-chat');
const waiting = byId('parley-waiting');
const waitTime = byId('parley-wait');
const place = new QueuePlace(waiting);
/** the conversation waiting on screen, for its place in line */
const waitingId = () => (conv && (conv.state === 'queued' || conv.state === 'offered') ? conv.id : null);
const compose = /** @type {HTMLFormElement} */ (byId('parley-compose'));
const input = /** @type {HTMLTextAreaElement} */ (byId('parley-input'));
const sendButton = /** @type {HTMLButtonElement} */ (byId('parley-send'));
const limit = new ComposeLimit(input, byId('parley-count'), byId('parley-compose-error'));
input.after(new EmojiPicker(input, { align: 'end' }).root);
const attachments = widgetAttachments(compose, () => (conv && conv.state !== 'closed' ? conv.id : null), () => settings?.file_max_bytes ?? 0);
voiceRecorder(compose, { conversation: () => (conv && conv.state !== 'closed' ? conv.id : null), token: fileToken, maxBytes: () => settings?.file_max_bytes ?? 0, send: (files) => sendMessage('', files) });
const ended = byId('parley-ended');
const newChatButton = /** @type {HTMLButtonElement} */ (byId('parley-new'));
const feedback = new FeedbackForm(ended, async (rating, comment) => {
  const c = conn;
  if (!c || !c.ready || !conv) throw new ProtocolError('unavailable', 'not connected');
  await c.request('chat.feedback', { conversation_id: conv.id, rating, comment });
});
const transcriptMail = new TranscriptMailForm(ended, async (email) => {
  const c = conn;
  if (!c || !c.ready || !conv) throw new ProtocolError('unavailable', 'not connected');
  await c.request('chat.transcript_email', { conversation_id: conv.id, email });
});
const prechat = new Prechat(local, `parley.details.${key}`);
const offline = new OfflinePanel(byId('parley-offline'));
// "Not you?": whoever is at this browser now is a new visitor. The visitor
// token (whose subject ties chats together for the agents' history) and
// what was seen are dropped, and the connection starts over with a new token.
prechat.onforget = () => {
  local.remove(TOKEN_KEY);
  local.remove(SEEN_KEY);
  reconnect();
};
const identity = new Identity(); // the page's signed identity (identity.js)
identity.onchange = () => (prechat.hidden ? undefined : identity.prefill(prechat));
const transcript = new Transcript(byId('parley-transcript'));
// Questions with options: their buttons, and the choice sent (options.js).
const options = new WidgetOptions(byId('parley-transcript'), (data) =>
  conn?.ready ? conn.request('chat.send', data) : Promise.reject(new ProtocolError('disconnected', 'not connected')),
);
const rules = new QueueRules(offline, () => prechat.values()); // the queue closed or full (closed.js)
/** @type {Delivery<Outgoing>} the conversation on screen: events in seq order once each; the customer's messages not yet acknowledged */
const delivery = new Delivery({
  store: session,
  key: `parley.outbox.${key}`,
  parse: (x) => (typeof x.conversation_id === 'number' ? x : null),
});
const room = new WidgetRoom({
  conn: () => (conn?.ready ? conn : null),
  conversation: () => conv,
  changed: (inRoom) => {
    inCall = inRoom;
    document.documentElement.dataset.room = String(inRoom);
    tellLoader();
    if (inRoom) transcript.scrollToEnd();
  },
  bar: byId('parley-call'),
  slot: byId('parley-room'),
});
const typing = new Typing(byId('parley-typing'), (on) => {
  const c = conn;
  if (!c || !c.ready || !conv || conv.state === 'closed') return false;
  c.request('chat.typing', { conversation_id: conv.id, typing: on }).catch(() => {});
  return true;
});

// The state.
/** @type {Settings | null} */
let settings = null;
/** @type {Connection | null} */
let conn = null;
/** @type {import('../lib/position.js').Positions | null} the position checks of conn */
let positions = null;
/** @type {Conversation | null} the conversation on screen */
let conv = null;
/** @type {ChatEvent[] | null} live events held while a start or resume is answered */
let held = null;
/** bumped by each start or resume: an older answer must not touch what a newer one holds */
let syncGeneration = 0;
/** conv is resumed on the current connection, so messages may go */
let synced = false;
/** @type {Map<string, HTMLElement>} the customer's messages on screen, by client_id */
const own = new Map();
/** the server's clock (session.ping): waiting times are the server's */
const serverClock = new ServerClock();
/** @type {ReturnType<typeof setInterval> | null} */
let waitTimer = null;
let isOpen = false;
/** a video call is on: the loader makes the frame larger */
let inCall = false;
/** agent messages that came while the window was closed */
let unread = 0;
/** the highest seq of conv the customer has seen with the window open (SEEN_KEY) */
let seenSeq = 0;

main().catch((err) => {
  console.error('parley widget:', err);
  showStatus('The chat could not start. Reload the page to try again.');
});

async function main() {
  // The admin console's preview: settings from the console, no connection (preview.js).
  if (location.pathname === '/admin/widget-preview') return runPreview(applySettings);
  window.addEventListener('message', onParentMessage);
  wire();
  const loaded = await loadSettings(key);
  if (!loaded) {
    // The loader shows the frame only once the widget says it is ready, so
    // on a company's page nothing appears; opened directly, it says why.
    showStatus('This chat is not available.');
    win.hidden = false;
    return;
  }
  settings = loaded;
  applySettings(loaded);
  launcher.hidden = false;
  setOpen(session.get(OPEN_KEY) === '1', false);
  await connect();
}

/** @param {Settings} s */
function applySettings(s) {
  const root = document.documentElement;
  if (s.color && CSS.supports('color', s.color)) {
    root.style.setProperty('--accent', s.color);
    root.style.setProperty('--on-accent', isLight(s.color) ? '#171b22' : '#ffffff');
  }
  const heading = s.title || s.name || 'Chat';
  setText(byId('parley-title'), heading);
  document.title = heading;
  prechat.configure(s.name, s.fields);
  rules.configure(s);
  room.configure(s);
}

// ------------------------------------------------------------- connecting

/** Gets a visitor token and opens the connection, which then keeps itself open. */
async function connect() {
  const token = await visitorToken(key, local, TOKEN_KEY, (message) => {
    if (!conv && prechat.hidden) showStatus(message);
  });
  const c = new Connection({ token, client: CLIENT });
  setFileToken(token);
  conn = c;
  c.onstate = (state) => {
    if (c !== conn) return;
    if (state === 'open') connBanner.hidden = true;
    else if (state === 'reconnecting') showBanner('Reconnecting…', false);
    else if (state === 'closed') {
      // Its hello was refused: it will not try again by itself.
      showBanner('Disconnected.', true);
      if (!statusLine.hidden) showStatus('The chat could not connect.');
    }
  };
  c.onclose = () => {
    if (c !== conn) return;
    synced = false;
    delivery.offline();
    showBanner('Reconnecting…', false);
  };
  c.onhello = () => {
    if (c !== conn) return;
    measureClock(c);
    sync(c, 0);
  };
  c.on('chat.event', (/** @type {ChatEvent} */ ev) => {
    if (c !== conn) return;
    if (!held && conv && synced && ev.conversation_id === conv.id && ev.seq > delivery.highest + 1) {
      // The events below it were lost on the way: fetch them first; it
      // waits with the live events held meanwhile.
      resume(c, conv.id).catch((err) => console.warn('parley widget: resuming failed', err));
    }
    if (held) held.push(ev);
    else applyEvent(ev);
  });
  c.on('chat.typing', (/** @type {{conversation_id: number, author?: Author, typing: boolean}} */ data) => {
    if (c !== conn || !conv || data.conversation_id !== conv.id || data.author?.kind === 'customer') return;
    if (data.typing) typing.show(data.author?.name ?? '');
    else typing.hide();
  });
  c.on('room.opened', (data) => {
    if (c === conn) room.opened(data);
  });
  c.on('chat.queue_position', (data) => {
    if (c === conn) place.show(waitingId(), data);
  });
  c.on('session.resync', () => {
    const id = waitingId();
    if (c === conn && id !== null) place.ask(c, id, waitingId);
  });
  positions?.stop();
  positions = followPositions(
    c,
    () => new Map(c === conn && conv && synced ? [[conv.id, delivery.highest]] : []),
    (id) => {
      if (c === conn && conv?.id === id) resume(c, id).catch((err) => console.warn('parley widget: resuming failed', err));
    },
  );
  if (!conv && prechat.hidden) showStatus('Connecting…');
  await c.connect().catch(() => {
    // onstate tells: it keeps trying, unless its hello was refused.
  });
}

/**
 * Runs onHello; when it fails while the connection stays (the database did
 * not answer, say), it tries again. A lost connection starts over with its
 * next hello.
 * @param {Connection} c
 * @param {number} attempt
 */
function sync(c, attempt) {
  onHello(c).catch((err) => {
    if (err instanceof ProtocolError && err.code === 'disconnected') return;
    console.warn('parley widget: resuming failed, trying again', err);
    setTimeout(() => {
      if (c === conn && c.ready && !synced) sync(c, attempt + 1);
    }, backoff(attempt));
  });
}

/**
 * After every hello: find the conversation to show and resume it from the
 * highest seq shown; then the outbox goes out.
 * @param {Connection} c
 */
async function onHello(c) {
  synced = false;
  delivery.offline();
  const mine = /** @type {{conversations: Conversation[]}} */ (await c.request('chat.mine'));
  if (c !== conn) return;
  /** @type {number | null} */
  let id = mine.conversations.find((x) => x.state !== 'closed')?.id ?? null;
  if (id === null && conv && conv.state !== 'closed') id = conv.id; // it ended while we were away
  if (id === null && !conv) {
    const stored = Number(session.get(CONVERSATION_KEY));
    if (stored > 0) id = stored; // reloaded after it ended, before hearing so
  }
  if (id === null) {
    if (!conv && prechat.hidden) showForm();
    return;
  }
  await resume(c, id);
}

/**
 * @param {Connection} c
 * @param {number} id
 */
async function resume(c, id) {
  if (conv && conv.id !== id) forgetConversation();
  const gen = ++syncGeneration;
  held = [];
  /** @type {WithEvents} */
  let answer;
  try {
    answer = await c.request('chat.resume', { conversation_id: id, after_seq: conv ? delivery.highest : 0 });
  } catch (err) {
    if (gen === syncGeneration) held = null;
    if (err instanceof ProtocolError && err.code === 'not_found' && c === conn) {
      session.remove(CONVERSATION_KEY);
      if (conv?.id === id) forgetConversation();
      if (prechat.hidden) showForm();
      return;
    }
    throw err;
  }
  if (gen !== syncGeneration || c !== conn) return;
  const live = held ?? [];
  held = null;
  showConversation(answer.conversation);
  restoreOutbox(); // at the end; the events take their places before them
  for (const ev of answer.events) applyEvent(ev);
  for (const ev of live) applyEvent(ev);
  synced = true;
  flushOutbox();
  askPlace(c);
}

/** @param {SubmitEvent} e */
async function startChat(e) {
  e.preventDefault();
  if (prechat.button.disabled) return;
  const values = prechat.values();
  if (!prechat.check(values)) return;
  const c = conn;
  if (!c || !c.ready) {
    prechat.formError('Not connected yet. Please try again in a moment.');
    return;
  }
  prechat.busy(true);
  const gen = ++syncGeneration;
  held = [];
  /** @type {WithEvents} */
  let answer;
  try {
    answer = await c.request('chat.start', identity.startData(values));
  } catch (err) {
    if (gen === syncGeneration) held = null;
    prechat.busy(false);
    if (rules.refused(err)) prechat.hidden = true; // the queue's offline panel instead
    else if (!identity.refused(err, prechat)) prechat.failed(err);
    return;
  }
  prechat.busy(false);
  prechat.remember(values);
  if (gen !== syncGeneration || c !== conn) return;
  const live = held ?? [];
  held = null;
  forgetConversation();
  showConversation(answer.conversation);
  for (const ev of answer.events) applyEvent(ev);
  for (const ev of live) applyEvent(ev);
  synced = true;
  flushOutbox();
  askPlace(c);
}

/**
 * Asks where the chat on screen stands in line, if it waits.
 * @param {Connection} c
 */
function askPlace(c) {
  const id = waitingId();
  if (id !== null) place.ask(c, id, waitingId);
}

/** @param {Connection} c */
function measureClock(c) {
  serverClock.measure(c).then(updateWait);
}

/**
 * @param {string} text
 * @param {boolean} offerReconnect
 */
function showBanner(text, offerReconnect) {
  connBanner.replaceChildren(text, offerReconnect ? reconnectButton : '');
  connBanner.hidden = false;
}

/** The connection gave up (its hello was refused): start over with a fresh token. */
function reconnect() {
  const old = conn;
  conn = null;
  old?.close();
  showBanner('Reconnecting…', false);
  if (!statusLine.hidden) showStatus('Connecting…');
  connect().catch((err) => console.error('parley widget:', err));
}

// ------------------------------------------------------------------ views

/** @param {string} text */
function showStatus(text) {
  offline.hide();
  setText(statusLine, text);
  statusLine.hidden = false;
  prechat.hidden = true;
  chatView.hidden = true;
  endButton.hidden = true;
  hideConfirm(false);
}

function showForm() {
  if (settings?.open === false || rules.closedSince) {
    showOffline();
    return;
  }
  offline.hide();
  statusLine.hidden = true;
  chatView.hidden = true;
  prechat.hidden = false;
  endButton.hidden = true;
  hideConfirm(false);
  setText(subtitle, settings?.name ?? '');
  prechat.busy(false);
  prechat.prefill();
  identity.prefill(prechat);
  if (isOpen) prechat.focus();
}

/**
 * No chat can start (the queue is closed or disabled): the queue's offline
 * message, and its offline form when it has one, instead of the pre-chat
 * form.
 */
function showOffline() {
  statusLine.hidden = true;
  chatView.hidden = true;
  prechat.hidden = true;
  endButton.hidden = true;
  hideConfirm(false);
  setText(subtitle, settings?.name ?? '');
  const known = prechat.remembered();
  offline.show({
    message: settings?.offline_message ?? '',
    form: settings?.offline_form === true,
    prefill: known ? { name: known.name, email: known.email } : undefined,
  });
}

/**
 * Puts a conversation on screen: a new one, or the same again after a
 * resume, with its current state.
 * @param {Conversation} c
 */
function showConversation(c) {
  const fresh = !conv || conv.id !== c.id;
  conv = c;
  offline.hide();
  if (fresh) seenSeq = loadSeen(c.id);
  if (c.state !== 'closed') session.set(CONVERSATION_KEY, String(c.id));
  if (c.state !== 'closed') rules.hide();
  statusLine.hidden = true;
  prechat.hidden = true;
  chatView.hidden = false;
  renderState();
  if (fresh && isOpen && c.state !== 'closed') input.focus();
}

/** Shows what the conversation's state implies: waiting, composing, ended. */
function renderState() {
  if (!conv) return;
  const closed = conv.state === 'closed';
  const queued = conv.state === 'queued' || conv.state === 'offered';
  waiting.hidden = !queued;
  compose.hidden = closed;
  ended.hidden = !closed;
  endButton.hidden = closed;
  feedback.render(closed ? conv.id : null, settings?.feedback === true, conv.feedback_given === true);
  transcriptMail.render(closed ? conv.id : null, settings?.transcript_email === 'ask', conv.customer.email ?? '');
  if (closed) {
    hideConfirm(false);
    typing.hide();
  }
  room.render();
  setText(subtitle, closed ? '' : queued ? settings?.name ?? '' : conv.agent?.name ?? '');
  if (queued) {
    updateWait();
    waitTimer ??= setInterval(updateWait, 1000);
  } else if (waitTimer !== null) {
    clearInterval(waitTimer);
    waitTimer = null;
  }
  if (!queued) place.clear();
}

function updateWait() {
  if (!conv || (conv.state !== 'queued' && conv.state !== 'offered')) return;
  setText(waitTime, `Waiting ${duration(serverClock.since(conv.queued_at))}`);
}

/** Takes the conversation off the screen. */
function forgetConversation() {
  conv = null;
  room.reset();
  delivery.reset();
  own.clear();
  transcript.clear();
  typing.reset();
  place.clear();
  if (waitTimer !== null) clearInterval(waitTimer);
  waitTimer = null;
}

// ----------------------------------------------------------------- events

/**
 * Shows an event of the conversation, once: anything at or below the
 * highest seq shown has been.
 * @param {ChatEvent} ev
 */
function applyEvent(ev) {
  if (!conv || ev.conversation_id !== conv.id || !delivery.apply(ev)) return;
  if (isOpen) markSeen();
  const who = ev.author?.name ?? '';
  switch (ev.kind) {
    case 'queued':
      transcript.system(ev.seq, `Chat started · ${clock(ev.time)}`, ev.time);
      break;
    case 'accepted':
      transcript.system(ev.seq, `${who || 'An agent'} joined the chat`, ev.time);
      if (conv.state === 'queued' || conv.state === 'offered') {
        conv.state = 'active';
        conv.agent = { name: who };
      }
      renderState();
      break;
    case 'message':
      if (ev.author?.kind === 'customer') {
        ownEvent(ev);
      } else {
        typing.hide();
        showFiles(transcript.agent(ev.seq, who, ev.text ?? '', ev.time), ev.files);
        options.question(ev);
        if (!isOpen && ev.seq > seenSeq) setUnread(unread + 1);
      }
      break;
    case 'room_created':
    case 'room_joined':
    case 'room_left':
    case 'screen_started':
    case 'screen_stopped':
    case 'room_ended':
      transcript.system(ev.seq, roomLine(ev), ev.time);
      room.event(ev);
      break;
    case 'joined':
    case 'left':
    case 'transferred':
      transcript.system(ev.seq, teamLine(ev, conv.agent?.name ?? ''), ev.time);
      if (ev.kind === 'transferred' && conv.state !== 'closed') {
        const toQueue = /** @type {ChatEvent & {target?: {kind: string}}} */ (ev).target?.kind === 'queue';
        conv.state = toQueue ? 'queued' : 'active';
        conv.agent = toQueue ? null : { name: who };
        renderState();
      }
      break;
    case 'closed':
      transcript.system(ev.seq, rules.ended(ev) ?? (ev.author?.kind === 'customer' ? 'You ended the chat.' : 'The agent ended the chat.'), ev.time);
      conv.state = 'closed';
      session.remove(CONVERSATION_KEY);
      failOutbox();
      renderState();
      if (isOpen && (document.activeElement === input || document.activeElement === document.body)) newChatButton.focus();
      break;
    default:
    // Kinds a customer never sees, or newer than this widget.
  }
}

/**
 * A room event as the customer reads it.
 * @param {ChatEvent} ev
 */
function roomLine(ev) {
  const you = ev.author?.kind === 'customer';
  const who = ev.author?.kind === 'system' ? '' : ev.author?.name || 'The agent';
  switch (ev.kind) {
    case 'room_created':
      return you ? 'You started a call.' : who ? `${who} opened a video room.` : 'A video room was opened.';
    case 'room_joined':
      return you ? 'You joined the video room.' : `${who || 'Someone'} joined the video room.`;
    case 'room_left':
      return you ? 'You left the video room.' : `${who || 'Someone'} left the video room.`;
    case 'screen_started':
      return you ? 'You started sharing your screen.' : `${who || 'Someone'} started sharing their screen.`;
    case 'screen_stopped':
      return you ? 'You stopped sharing your screen.' : `${who || 'Someone'} stopped sharing their screen.`;
    default:
      return 'The video room ended.';
  }
}

/**
 * The customer's own message as an event: the one on screen (sent from
 * here) gets its seq; one sent from elsewhere is added.
 * @param {ChatEvent} ev
 */
function ownEvent(ev) {
  const id = ev.client_id ?? '';
  if (id) delivery.ack(id);
  let node = id ? own.get(id) : undefined;
  if (!node) {
    node = transcript.own(ev.text ?? '', id);
    if (id) own.set(id, node);
  }
  showFiles(node, ev.files);
  transcript.markSent(node, ev.seq, ev.time);
  options.answered(ev);
}

// ----------------------------------------------------------------- sending

/**
 * @param {string} text
 * @param {import('../lib/files.js').FileRef[]} [files]
 */
function sendMessage(text, files) {
  if (!conv || conv.state === 'closed') return;
  const item = { client_id: newClientId('m'), conversation_id: conv.id, text, files };
  delivery.add(item);
  own.set(item.client_id, transcript.own(text, item.client_id));
  showFiles(own.get(item.client_id), files);
  flushOutbox();
}

/**
 * After a resume: what the outbox holds for this conversation goes on
 * screen as pending (after a reload it is not there yet); what it holds
 * for another can no longer be sent.
 */
function restoreOutbox() {
  if (!conv) return;
  const id = conv.id;
  delivery.keepOnly((x) => x.conversation_id === id);
  for (const item of delivery.items) {
    if (!own.has(item.client_id)) own.set(item.client_id, transcript.own(item.text, item.client_id));
  }
  if (conv.state === 'closed') failOutbox();
}

/**
 * Sends, in order, what the outbox holds and is not on its way already;
 * only once the conversation is resumed on this connection, so a message
 * written meanwhile cannot overtake older ones.
 */
function flushOutbox() {
  const c = conn;
  if (!c || !c.ready || !synced || !conv || conv.state === 'closed') return;
  const id = conv.id;
  delivery.resend(
    {
      // A refusal on a connection given up counts as lost: the message goes again on the current one.
      send: (item) =>
        c.request('chat.send', { conversation_id: item.conversation_id, client_id: item.client_id, text: item.text, files: item.files?.map((f) => f.id) }).catch((err) => {
          throw c === conn ? err : new ProtocolError('disconnected', 'the connection was replaced');
        }),
      sent: (item, ack) => {
        const node = own.get(item.client_id);
        if (node) transcript.markSent(node, ack.seq, ack.time);
      },
      failed: (item, err) => {
        const node = own.get(item.client_id);
        if (node) transcript.markFailed(node, err.code === 'conflict' ? NOT_DELIVERED : `Not delivered: ${err.message}`);
      },
      retry: flushOutbox,
    },
    (x) => x.conversation_id === id,
  );
}

/** The chat ended: what the outbox holds for it will never be stored. */
function failOutbox() {
  if (!conv) return;
  const id = conv.id;
  for (const item of delivery.failAll((x) => x.conversation_id === id)) {
    const node = own.get(item.client_id);
    if (node) transcript.markFailed(node, NOT_DELIVERED);
  }
}

// --------------------------------------------------------------- end chat

function showConfirm() {
  setText(confirmText, 'End this chat?');
  confirmEnd.disabled = false;
  confirmBar.hidden = false;
  endButton.setAttribute('aria-expanded', 'true');
  confirmEnd.focus();
}

/** @param {boolean} refocus */
function hideConfirm(refocus) {
  if (confirmBar.hidden) return;
  confirmBar.hidden = true;
  endButton.setAttribute('aria-expanded', 'false');
  if (refocus && !endButton.hidden) endButton.focus();
}

async function endChat() {
  const c = conn;
  if (!conv || conv.state === 'closed') return hideConfirm(false);
  if (!c || !c.ready) {
    setText(confirmText, 'Not connected. Try again in a moment.');
    return;
  }
  confirmEnd.disabled = true;
  try {
    await c.request('chat.close', { conversation_id: conv.id });
    hideConfirm(false); // the closed event says the rest
  } catch (err) {
    if (err instanceof ProtocolError && err.code === 'conflict') {
      hideConfirm(false); // it had ended already
      return;
    }
    confirmEnd.disabled = false;
    setText(confirmText, 'Could not end the chat. Try again?');
  }
}

function newChat() {
  forgetConversation();
  session.remove(CONVERSATION_KEY);
  showForm();
}

// ------------------------------------------------------------ open, close

/**
 * Opens or closes the chat window, and tells the loader on the host page,
 * which resizes the iframe. The message carries no secret, so any parent
 * may read it.
 * @param {boolean} open
 * @param {boolean} [moveFocus]
 */
function setOpen(open, moveFocus = true) {
  isOpen = open;
  if (open) {
    setUnread(0);
    markSeen();
  }
  win.hidden = !open;
  launcher.hidden = open;
  launcher.setAttribute('aria-expanded', String(open));
  session.set(OPEN_KEY, open ? '1' : '0');
  tellLoader();
  if (!open) {
    hideConfirm(false);
    if (moveFocus) launcher.focus();
    return;
  }
  transcript.scrollToEnd();
  if (!moveFocus) return;
  if (!prechat.hidden) prechat.focus();
  else if (!chatView.hidden && !compose.hidden) input.focus();
  else if (!chatView.hidden) newChatButton.focus();
  else minimise.focus();
}

/**
 * Tells the loader on the host page how large the frame should be. The
 * message carries no secret, so any parent may read it.
 */
function tellLoader() {
  window.parent.postMessage({ parley: 'widget', open: isOpen, call: inCall }, '*');
}

/** The customer has seen everything shown of conv: kept for their next visit. */
function markSeen() {
  if (!conv || delivery.highest <= seenSeq) return;
  seenSeq = delivery.highest;
  local.set(SEEN_KEY, JSON.stringify({ conversation_id: conv.id, seq: seenSeq }));
}

/**
 * The highest seq of a conversation the customer has seen, from an earlier visit.
 * @param {number} id
 */
function loadSeen(id) {
  try {
    const v = JSON.parse(local.get(SEEN_KEY) ?? 'null');
    return v?.conversation_id === id && Number.isInteger(v.seq) ? v.seq : 0;
  } catch {
    return 0;
  }
}

/** @param {number} n */
function setUnread(n) {
  unread = n;
  setText(unreadBadge, n > 9 ? '9+' : String(n));
  unreadBadge.hidden = n === 0;
}

/**
 * The loader says how the frame is laid out: floating in the corner, or
 * filling a small screen.
 * @param {MessageEvent} e
 */
function onParentMessage(e) {
  if (window.parent === window || e.source !== window.parent) return;
  identity.fromParent(e.data);
  const layout = e.data?.parley === 'widget' ? e.data.layout : undefined;
  if (layout === 'full' || layout === 'float') document.documentElement.dataset.layout = layout;
}

function wire() {
  launcher.addEventListener('click', () => setOpen(true));
  minimise.addEventListener('click', () => setOpen(false));
  win.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    e.preventDefault();
    if (!confirmBar.hidden) hideConfirm(true);
    else setOpen(false);
  });
  reconnectButton.addEventListener('click', reconnect);
  endButton.addEventListener('click', () => (confirmBar.hidden ? showConfirm() : hideConfirm(true)));
  confirmCancel.addEventListener('click', () => hideConfirm(true));
  confirmEnd.addEventListener('click', () => {
    endChat().catch((err) => console.error('parley widget:', err));
  });
  newChatButton.addEventListener('click', newChat);
  prechat.form.addEventListener('submit', (e) => {
    startChat(e).catch((err) => console.error('parley widget:', err));
  });
  compose.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    const blocked = attachments.blocked();
    if (blocked) {
      setText(limit.error, blocked);
      limit.error.hidden = false;
      return;
    }
    const files = attachments.refs();
    if ((!text && files.length === 0) || !limit.check()) return;
    input.value = '';
    limit.update();
    typing.stop();
    attachments.clear();
    sendMessage(text, files);
    input.focus();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      compose.requestSubmit();
    }
  });
  input.addEventListener('input', () => typing.input(input.value.trim() !== ''));
  sendButton.addEventListener('mousedown', (e) => e.preventDefault()); // the focus stays in the box
}

/**
 * Whether a colour is light enough to need dark text on it (white on it
 * would have a contrast below 3:1).
 * @param {string} color any CSS colour; only #rgb and #rrggbb are measured
 */
export function isLight(color) {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (!m) return false;
  const hex = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
  const [r, g, b] = [0, 2, 4].map((i) => {
    const v = parseInt(hex.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return 1.05 / (luminance + 0.05) < 3;
}
