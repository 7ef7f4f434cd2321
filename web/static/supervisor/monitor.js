// @ts-check
// Screen monitoring and watching a chat's video room, in the supervisor
// console (docs/protocol.md, "Screen monitoring" and "Rooms").
//
// askScreen asks an agent to share their screen (monitor.request) and
// opens a viewer panel: "Asking…", then, once the agent consents
// (monitor.started), the agent's screen, received only, with Stop; it
// closes when either stops it (monitor.ended). watchChatRoom joins a
// chat's video room receive-only (the customer is not told) and shows it
// in the element given, with Stop.

import { el, setText } from '../lib/dom.js';
import { errorText } from '../lib/util.js';
import { RoomSession } from '../room/room.js';
import { RoomView } from '../room/view.js';

/**
 * @typedef {{id: number, name: string}} Person
 * @typedef {{request_id: number, room_id: string, agent: Person, by: Person}} Started
 * @typedef {{request_id: number, reason: string, by: Person | null}} Ended
 */

/** The stylesheets the viewers need, added to the page once. */
const STYLES = ['/static/room/room.css', '/static/supervisor/monitor.css'];

function ensureStyles() {
  for (const href of STYLES) {
    if (document.querySelector(`link[rel="stylesheet"][href="${href}"]`)) continue;
    document.head.append(el('link', { rel: 'stylesheet', href }));
  }
}

/** @type {Map<number, Viewer>} the open viewers, by agent */
const viewers = new Map();

/**
 * Asks agent to share their screen with the supervisor, and shows it once
 * they do. Asking again for an agent whose viewer is open brings it
 * forward.
 * @param {import('./types.js').Ctx} ctx
 * @param {{id: number, name: string}} agent
 */
export function askScreen(ctx, agent) {
  ensureStyles();
  const open = viewers.get(agent.id);
  if (open) {
    open.stopButton.focus();
    return;
  }
  const viewer = new Viewer(ctx, agent);
  viewers.set(agent.id, viewer);
  void viewer.ask();
}

/** One agent's screen: asked for, then shown, until either stops. */
class Viewer {
  /**
   * @param {import('./types.js').Ctx} ctx
   * @param {{id: number, name: string}} agent
   */
  constructor(ctx, agent) {
    this.ctx = ctx;
    this.agent = agent;
    /** @type {number} the request, once asked */
    this.requestId = 0;
    /** @type {RoomSession | null} */
    this.session = null;
    /** @type {RoomView | null} */
    this.view = null;
    this.over = false;
    /** the supervisor clicked Stop: the end needs no notice */
    this.stopping = false;

    const titleId = `screen-viewer-${agent.id}`;
    this.status = el('p', { class: 'screen-viewer-status', role: 'status', 'aria-live': 'polite' }, `Asking ${agent.name} to share their screen…`);
    this.stopButton = el('button', { class: 'button', type: 'button' }, 'Stop');
    this.slot = el('div', { class: 'screen-viewer-slot' });
    this.element = el(
      'section',
      { class: 'screen-viewer', 'aria-labelledby': titleId, 'data-agent': String(agent.id) },
      el('header', { class: 'screen-viewer-head' }, el('h2', { class: 'screen-viewer-title', id: titleId }, `${agent.name}'s screen`), this.stopButton),
      this.status,
      this.slot,
    );
    this.stopButton.addEventListener('click', () => void this.stop());
    this.off = [
      ctx.conn.on('monitor.started', (/** @type {Started} */ d) => {
        if (d.request_id === this.requestId) void this.show(d.room_id);
      }),
      ctx.conn.on('monitor.ended', (/** @type {Ended} */ d) => {
        if (d.request_id === this.requestId) this.ended(d);
      }),
    ];
    document.body.append(this.element);
  }

  async ask() {
    try {
      const answer = /** @type {{request_id: number}} */ (await this.ctx.conn.request('monitor.request', { user_id: this.agent.id }));
      this.requestId = answer.request_id;
      if (!this.over) setText(this.status, `Waiting for ${this.agent.name} to share their screen…`);
    } catch (err) {
      this.ctx.notices(`Could not ask to see ${this.agent.name}'s screen: ${errorText(err)}`);
      this.close();
    }
  }

  /**
   * The agent shares: join their room, receive only.
   * @param {string} roomId
   */
  async show(roomId) {
    if (this.over || this.session) return;
    const session = new RoomSession(this.ctx.conn);
    this.session = session;
    this.view = new RoomView(session, { leave: false, label: `${this.agent.name}'s screen`, you: 'You (watching)' });
    this.slot.replaceChildren(this.view.element);
    session.on('ended', ({ reason }) => {
      if (this.over || reason === 'left') return;
      // The room ended: monitor.ended follows and says why.
      if (reason === 'ended' || reason === 'empty') setText(this.status, `${this.agent.name}'s screen is no longer shared.`);
      else {
        // This page lost the room (its connection, the media).
        this.ctx.notices(`${this.agent.name}'s screen could not be shown any more; ask again.`);
        void this.stop();
      }
    });
    setText(this.status, `${this.agent.name} is sharing their screen with you.`);
    try {
      await session.join(roomId, { receiveOnly: true });
    } catch (err) {
      this.ctx.notices(`Could not show ${this.agent.name}'s screen: ${errorText(err)}`);
      void this.stop();
    }
  }

  /** Stop: monitor.stop, then the panel goes. */
  async stop() {
    if (this.over) return;
    this.stopping = true;
    this.stopButton.disabled = true;
    if (this.requestId) {
      await this.ctx.conn.request('monitor.stop', { request_id: this.requestId }).catch(() => {
        // Over already: monitor.ended has said so, or the connection went.
      });
    }
    this.close();
  }

  /**
   * It ended: the supervisor is told why, unless it was their own Stop.
   * @param {Ended} d
   */
  ended(d) {
    if (this.over) return;
    const name = this.agent.name;
    /** @type {Record<string, string>} */
    const why = {
      declined: `${name} declined to share their screen.`,
      expired: `${name} did not answer; the request expired.`,
      disconnected: `${name}'s screen is no longer shared: a connection closed.`,
      stopped: `${name} stopped sharing their screen.`,
    };
    if (!this.stopping) this.ctx.notices(why[d.reason] ?? `${name}'s screen is no longer shared.`);
    this.close();
  }

  close() {
    if (this.over) return;
    this.over = true;
    for (const f of this.off.splice(0)) f();
    this.view?.destroy();
    void this.session?.leave();
    this.element.remove();
    if (viewers.get(this.agent.id) === this) viewers.delete(this.agent.id);
  }
}

/** @type {WeakMap<HTMLElement, () => void>} the watching in each element */
const watching = new WeakMap();

/**
 * Watches conversation id's video room, receive-only, in root: the room's
 * tiles and a Stop button. The customer is not told (a watching
 * supervisor is hidden from them). Calling it again for root stops what
 * it showed first.
 * @param {import('./types.js').Ctx} ctx
 * @param {number} conversationId
 * @param {HTMLElement} root
 * @returns {() => void} stops watching
 */
export function watchChatRoom(ctx, conversationId, root) {
  ensureStyles();
  watching.get(root)?.();
  const status = el('p', { class: 'watch-room-status', role: 'status', 'aria-live': 'polite' }, 'Finding the chat’s video room…');
  const stopButton = el('button', { class: 'button', type: 'button', hidden: true }, 'Stop watching');
  const slot = el('div', { class: 'watch-room-slot' });
  root.replaceChildren(el('div', { class: 'watch-room' }, el('div', { class: 'watch-room-bar' }, status, stopButton), slot));
  /** @type {RoomSession | null} */
  let session = null;
  /** @type {RoomView | null} */
  let view = null;
  let over = false;
  /** @param {string} text */
  const stop = (text = 'Stopped watching.') => {
    if (over) return;
    over = true;
    view?.destroy();
    slot.replaceChildren();
    void session?.leave();
    stopButton.hidden = true;
    setText(status, text);
    if (watching.get(root) === stop) watching.delete(root);
  };
  watching.set(root, stop);
  stopButton.addEventListener('click', () => stop());

  void (async () => {
    try {
      const found = /** @type {{room: import('../lib/types.js').Room}} */ (await ctx.conn.request('room.get', { conversation_id: conversationId }));
      if (over) return;
      session = new RoomSession(ctx.conn);
      view = new RoomView(session, { leave: false, label: 'The chat’s video room (watching)', you: 'You (watching)' });
      slot.replaceChildren(view.element);
      session.on('ended', ({ reason }) => {
        if (reason !== 'left') stop(reason === 'ended' || reason === 'empty' ? 'The video room ended.' : 'You are no longer watching the video room.');
      });
      await session.join(found.room.id, { receiveOnly: true });
      if (over) return;
      stopButton.hidden = false;
      setText(status, 'Watching the chat’s video room. The customer is not told.');
    } catch (err) {
      stop(`Cannot watch the video room: ${errorText(err)}`);
    }
  })();
  return () => stop();
}

