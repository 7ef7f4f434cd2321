// @ts-check
// One conference room on the page: its name, number and link with copy
// buttons, room/view.js's grid and controls (with "End for everyone" for
// the room's creator), and the number at the start of the view's bar. The media is
// room.js's RoomSession; when the websocket drops, the server leaves the
// room for us, so after the next hello this joins again on its own.

import { byId, el, setText } from '../lib/dom.js';
import { RoomSession } from '../room/room.js';
import { RoomView } from '../room/view.js';
import { copyText, roomURL } from './address.js';
import { spaced } from '../lib/util.js';

/**
 * @typedef {import('../room/room.js').EndReason} EndReason
 * @typedef {import('../room/room.js').JoinAnswer} JoinAnswer
 * @typedef {'left' | 'ended' | 'empty' | 'removed' | 'failed'} OverReason
 *
 * @typedef {object} RoomOptions
 * @property {import('../lib/parley.js').Connection} conn connected, and in this room's rights
 * @property {string} roomId
 * @property {string} number
 * @property {boolean} mayEnd show "End for everyone" (the creator; the server decides)
 * @property {(reason: OverReason, message: string) => void} onOver the room is over for this page
 */

const COPIED_MS = 2000;
const REJOIN_TRIES = 5;

/** What the page says while it joins again, by why it left. */
const REJOIN_NOTES = {
  disconnected: 'Connection lost. Joining again…',
  media_timeout: 'Your video was lost. Joining again…',
  moved: 'The room is moving to another server. Joining again…',
};

export class ConferenceRoom {
  /** @param {RoomOptions} options */
  constructor({ conn, roomId, number, mayEnd, onOver }) {
    this.conn = conn;
    this.roomId = roomId;
    this.number = number;
    this.mayEnd = mayEnd;
    this.onOver = onOver;

    this.section = byId('room');
    this.title = byId('room-name');
    this.note = byId('room-note');
    this.numberText = byId('room-number');
    this.link = /** @type {HTMLAnchorElement} */ (byId('room-link'));
    this.slot = byId('room-slot');
    this.copyNumber = /** @type {HTMLButtonElement} */ (byId('copy-number'));
    this.copyLink = /** @type {HTMLButtonElement} */ (byId('copy-link'));
    this.endDialog = /** @type {HTMLDialogElement} */ (byId('end-dialog'));
    this.endForm = /** @type {HTMLFormElement} */ (byId('end-form'));
    this.endError = byId('end-error');
    this.endConfirm = /** @type {HTMLButtonElement} */ (byId('end-confirm'));

    /** @type {RoomSession | null} */
    this.session = null;
    /** @type {RoomView | null} */
    this.view = null;
    /** waiting for the websocket to come back, to join again */
    this.rejoining = false;
    this.rejoinTries = 0;
    this.closed = false;

    const url = roomURL(number);
    setText(this.numberText, spaced(number));
    this.link.href = url;
    setText(this.link, url);
    this.corner = el('p', { class: 'conf-corner', 'aria-label': 'Room number' }, spaced(number));
    this.endButton = el('button', { class: 'room-button conf-end', type: 'button', 'data-control': 'end' }, 'End for everyone');

    /** @type {Array<() => void>} */
    this.off = [];
    this.listen(this.copyNumber, 'click', () => void this.copy(this.copyNumber, number));
    this.listen(this.copyLink, 'click', () => void this.copy(this.copyLink, url));
    this.listen(this.endButton, 'click', () => this.askEnd());
    this.listen(byId('end-cancel'), 'click', () => this.endDialog.close());
    this.listen(this.endForm, 'submit', (ev) => {
      ev.preventDefault();
      void this.end();
    });
  }

  /**
   * Joins, then turns the camera and microphone on. Rejects with the server's error
   * (a ProtocolError: "This room has ended", forbidden…), the page left as
   * it was.
   * @returns {Promise<JoinAnswer>}
   */
  async enter() {
    const answer = await this.join();
    this.section.hidden = false;
    return answer;
  }

  /** @returns {Promise<JoinAnswer>} */
  async join() {
    const session = new RoomSession(this.conn);
    const view = new RoomView(session, { label: 'Conference', you: 'You', unmuteEach: true, fill: true });
    view.element.querySelector('.room-bar')?.prepend(this.corner);
    this.endButton.hidden = !this.mayEnd;
    view.controls.append(this.endButton);
    session.on('ended', ({ reason }) => this.ended(session, reason));
    this.session = session;
    this.view = view;
    this.slot.replaceChildren(view.element);
    try {
      // The room shows as soon as the join is answered, with the others'
      // video on its way; the camera and microphone follow (getting them
      // and publishing them takes a few hundred ms on a busy machine, and
      // a failure is the session's 'error', not the join's).
      const answer = await session.join(this.roomId);
      if (answer.room) this.showRoom(answer.room);
      void session.acquire(true, true);
      this.rejoinTries = 0;
      return answer;
    } catch (err) {
      if (this.session === session) {
        view.destroy();
        this.session = null;
        this.view = null;
        this.slot.replaceChildren();
      }
      throw err;
    }
  }

  /**
   * Shows or hides "End for everyone".
   * @param {boolean} on
   */
  setMayEnd(on) {
    this.mayEnd = on;
    this.endButton.hidden = !on;
  }

  /** @param {import('../lib/types.js').Room} room */
  showRoom(room) {
    const name = room.name || `Room ${spaced(this.number)}`;
    setText(this.title, name);
    document.title = `${name} · Parley`;
  }

  /**
   * The session is over: left, ended by someone, or lost with the socket.
   * @param {RoomSession} session
   * @param {EndReason} reason
   */
  ended(session, reason) {
    if (session !== this.session || this.closed) return;
    if (reason === 'disconnected' || reason === 'media_timeout' || reason === 'moved') {
      // The server has left the room for us; come back when we can.
      this.rejoining = true;
      setText(this.note, REJOIN_NOTES[reason]);
      if (this.conn.ready) void this.rejoin();
      return;
    }
    this.close();
    if (reason === 'left') this.onOver('left', 'You left the room.');
    else if (reason === 'empty') this.onOver('empty', 'Everyone had left, so the room closed.');
    else if (reason === 'ended') this.onOver('ended', 'The room was ended for everyone.');
    else this.onOver('failed', 'The video connection could not be set up.');
  }

  /** After a hello: join again if the socket's drop took us out. */
  async rejoin() {
    if (!this.rejoining || this.closed) return;
    this.rejoining = false;
    try {
      await this.join();
      setText(this.note, '');
    } catch (err) {
      const e = /** @type {{code?: string, message?: string}} */ (err);
      if (e.code === 'disconnected' || e.code === 'timeout') {
        // Gone again before the answer: the next hello tries again.
        this.rejoining = ++this.rejoinTries < REJOIN_TRIES;
        if (this.rejoining) return;
      }
      if (e.code === 'unavailable' && ++this.rejoinTries < REJOIN_TRIES) {
        // No node took the room yet (its old one is still being given
        // up): a moment later.
        this.rejoining = true;
        setTimeout(() => void this.rejoin(), 1000);
        return;
      }
      this.close();
      if (e.code === 'conflict' && /ended/i.test(e.message ?? '')) this.onOver('ended', 'The room ended while you were away.');
      else this.onOver('removed', `Could not join again: ${e.message ?? 'unknown error'}`);
    }
  }

  askEnd() {
    this.endError.hidden = true;
    this.endConfirm.disabled = false;
    this.endDialog.showModal();
  }

  async end() {
    const session = this.session;
    if (!session) return;
    this.endConfirm.disabled = true;
    try {
      await session.end(); // room.ended follows, to everyone
      this.endDialog.close();
    } catch (err) {
      setText(this.endError, err instanceof Error ? err.message : String(err));
      this.endError.hidden = false;
    } finally {
      this.endConfirm.disabled = false;
    }
  }

  /** Leaves the room (if in it) and takes it off the page. */
  async leave() {
    const session = this.session;
    this.close();
    await session?.leave();
  }

  /** Takes the room off the page; the session, if any, is left to end. */
  close() {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.off.splice(0)) f();
    if (this.endDialog.open) this.endDialog.close();
    this.view?.destroy();
    this.view = null;
    this.slot.replaceChildren();
    this.section.hidden = true;
    setText(this.note, '');
  }

  /**
   * @param {HTMLButtonElement} button
   * @param {string} text
   */
  async copy(button, text) {
    const label = button.dataset.label ?? button.textContent ?? '';
    button.dataset.label = label;
    const ok = await copyText(text);
    setText(button, ok ? 'Copied' : 'Select and copy');
    button.dataset.copied = String(ok);
    setTimeout(() => {
      setText(button, label);
      delete button.dataset.copied;
    }, COPIED_MS);
  }

  /**
   * @param {EventTarget} target
   * @param {string} type
   * @param {(ev: Event) => void} handler
   */
  listen(target, type, handler) {
    target.addEventListener(type, handler);
    this.off.push(() => target.removeEventListener(type, handler));
  }
}
