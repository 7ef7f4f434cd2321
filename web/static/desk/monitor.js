// @ts-check
// Screen monitoring in the desk (docs/protocol.md, "Screen monitoring"): a
// supervisor asks to see the agent's screen (monitor.asked); the desk asks
// the agent ("Sam asks to see your screen", Share / Decline). On Share it
// takes the screen (getDisplayMedia, on the click), answers, joins the
// monitor room and publishes the screen there. While a supervisor watches,
// every tab of the agent shows it ("Sam is watching your screen", with
// Stop) until either stops it (monitor.ended).

import { el } from '../lib/dom.js';
import { errorText } from '../lib/util.js';
import { RoomSession } from '../room/room.js';

/**
 * @typedef {{id: number, name: string}} Person
 * @typedef {{request_id: number, by: Person}} Asked
 * @typedef {{request_id: number, room_id: string, agent: Person, by: Person}} Started
 * @typedef {{request_id: number, reason: string, by: Person | null}} Ended
 * @typedef {{request_id: number, room: import('../lib/types.js').Room | null}} Answered
 */

export class DeskMonitor {
  /**
   * @param {object} deps
   * @param {import('../lib/parley.js').Connection} deps.conn
   * @param {import('./notices.js').Notices} deps.notices
   * @param {import('./alerts.js').Alerts} deps.alerts
   * @param {HTMLElement} deps.root where the questions and the indicator show
   */
  constructor({ conn, notices, alerts, root }) {
    this.conn = conn;
    this.notices = notices;
    this.alerts = alerts;
    this.root = root;
    /** @type {Map<number, HTMLElement>} the open questions, by request */
    this.asking = new Map();
    /** @type {Map<number, HTMLElement>} "… is watching your screen", by request */
    this.watched = new Map();
    /** @type {{requestId: number, session: RoomSession, stream: MediaStream} | null} what this tab shares */
    this.sharing = null;

    conn.on('monitor.asked', (/** @type {Asked} */ d) => this.asked(d));
    conn.on('monitor.started', (/** @type {Started} */ d) => this.started(d));
    conn.on('monitor.ended', (/** @type {Ended} */ d) => this.ended(d));
  }

  /**
   * A supervisor asks to see the screen.
   * @param {Asked} d
   */
  asked(d) {
    if (this.asking.has(d.request_id)) return;
    const title = el('p', { class: 'monitor-title', id: `monitor-ask-${d.request_id}` }, `${d.by.name} asks to see your screen`);
    const share = el('button', { class: 'button button-primary', type: 'button' }, 'Share');
    const decline = el('button', { class: 'button', type: 'button' }, 'Decline');
    const node = el(
      'section',
      { class: 'monitor-ask', role: 'alertdialog', 'aria-labelledby': title.id, 'data-request': String(d.request_id) },
      title,
      el('p', { class: 'monitor-text' }, 'They will see everything on your screen until one of you stops it.'),
      el('div', { class: 'monitor-actions' }, share, decline),
    );
    share.addEventListener('click', () => void this.share(d, node, [share, decline]));
    decline.addEventListener('click', () => void this.decline(d, node, [share, decline]));
    this.asking.set(d.request_id, node);
    this.root.append(node);
    share.focus();
    this.alerts.play('message');
    this.alerts.notify('Screen sharing asked', `${d.by.name} asks to see your screen`, `monitor-${d.request_id}`);
  }

  /**
   * Share: the screen first (the browser asks on this click), then the
   * answer, then the room.
   * @param {Asked} d
   * @param {HTMLElement} node
   * @param {HTMLButtonElement[]} buttons
   */
  async share(d, node, buttons) {
    for (const b of buttons) b.disabled = true;
    /** @type {MediaStream} */
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
    } catch (err) {
      for (const b of buttons) b.disabled = false;
      this.notices.show(`Your screen was not shared: ${errorText(err)}`, { key: `monitor-${d.request_id}` });
      return;
    }
    const stop = () => {
      for (const t of stream.getTracks()) t.stop();
    };
    /** @type {Answered} */
    let answer;
    try {
      answer = await this.conn.request('monitor.answer', { request_id: d.request_id, accept: true });
    } catch (err) {
      stop();
      this.close(d.request_id);
      this.notices.show(`Could not share your screen: ${errorText(err)}`, { key: `monitor-${d.request_id}` });
      return;
    }
    this.close(d.request_id);
    if (!answer.room) {
      stop();
      return;
    }
    const session = new RoomSession(this.conn);
    this.sharing = { requestId: d.request_id, session, stream };
    session.on('ended', ({ reason }) => {
      stop();
      if (this.sharing?.session !== session) return;
      this.sharing = null;
      // The websocket went: the server ended the sharing, and this tab
      // may not hear it.
      if (reason === 'disconnected') this.ended({ request_id: d.request_id, reason, by: null });
      // The room went without monitor.stop (its media failed): tell the
      // server it is over. (Ended, it is over already: monitor.ended follows.)
      else if (reason !== 'ended' && reason !== 'empty' && reason !== 'left') void this.stop(d.request_id);
    });
    // The browser's own "Stop sharing" ends the sharing, not just the track.
    stream.getVideoTracks()[0]?.addEventListener('ended', () => void this.stop(d.request_id));
    try {
      await session.join(answer.room.id, {});
      if (!(await session.startScreen(stream))) throw new Error('the screen could not be published');
    } catch (err) {
      this.notices.show(`Could not share your screen: ${errorText(err)}`, { key: `monitor-${d.request_id}` });
      void this.stop(d.request_id);
    }
  }

  /**
   * @param {Asked} d
   * @param {HTMLElement} node
   * @param {HTMLButtonElement[]} buttons
   */
  async decline(d, node, buttons) {
    for (const b of buttons) b.disabled = true;
    try {
      await this.conn.request('monitor.answer', { request_id: d.request_id, accept: false });
    } catch (err) {
      this.notices.show(`Could not decline: ${errorText(err)}`, { key: `monitor-${d.request_id}` });
    }
    this.close(d.request_id);
  }

  /**
   * A supervisor watches: every tab of the agent says so (the question
   * closes in the tabs that did not answer).
   * @param {Started} d
   */
  started(d) {
    this.close(d.request_id);
    if (!this.isMe(d.agent) || this.watched.has(d.request_id)) return;
    const stopButton = el('button', { class: 'button', type: 'button' }, 'Stop');
    const text = el('p', { class: 'monitor-title' }, `${d.by.name} is watching your screen`);
    const node = el('section', { class: 'monitor-watched', role: 'status', 'aria-live': 'polite', 'data-request': String(d.request_id) },
      el('span', { class: 'monitor-dot', 'aria-hidden': 'true' }), text, stopButton);
    stopButton.addEventListener('click', async () => {
      stopButton.disabled = true;
      await this.stop(d.request_id);
      stopButton.disabled = false;
    });
    this.watched.set(d.request_id, node);
    this.root.append(node);
  }

  /**
   * Over: the question, the indicator and the sharing go.
   * @param {Ended} d
   */
  ended(d) {
    this.close(d.request_id);
    const node = this.watched.get(d.request_id);
    if (node) {
      node.remove();
      this.watched.delete(d.request_id);
      const by = d.by && !this.isMe(d.by) ? d.by.name : '';
      if (by) this.notices.show(`${by} stopped watching your screen.`, { kind: 'info', key: `monitor-${d.request_id}` });
    }
    if (this.sharing?.requestId === d.request_id) {
      const { session } = this.sharing;
      this.sharing = null;
      void session.leave();
    }
  }

  /**
   * Whether a user of an event is the one signed in here.
   * @param {Person} user
   */
  isMe(user) {
    return `user:${user.id}` === this.conn.hello?.principal.id;
  }

  /** @param {number} requestId */
  async stop(requestId) {
    try {
      await this.conn.request('monitor.stop', { request_id: requestId });
    } catch (err) {
      // Over already (the other side stopped first): monitor.ended says so.
      if (!(err instanceof Error && 'code' in err && err.code === 'conflict')) {
        this.notices.show(`Could not stop sharing your screen: ${errorText(err)}`);
      }
    }
  }

  /**
   * Closes the question of a request.
   * @param {number} requestId
   */
  close(requestId) {
    const node = this.asking.get(requestId);
    if (!node) return;
    node.remove();
    this.asking.delete(requestId);
  }
}
