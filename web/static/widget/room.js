// @ts-check
// Video in the chat widget (docs/protocol.md, "Rooms"): when the
// conversation has a room open (room.opened, or a room_created event with
// no room_ended after it), "Open co-browsing" joins it; when the queue
// lets customers call (settings.customer_calls), "Video call" and "Audio
// call" open one (room.create) and join it. The room shows above the
// transcript with camera, microphone, screen share and leave; the agent's
// sound starts muted until the customer clicks "Unmute agent" (browsers'
// autoplay rules make that the honest design).

import { setText } from '../lib/dom.js';
import { RoomSession } from '../room/room.js';
import { RoomView } from '../room/view.js';
import { sentence } from '../lib/util.js';

/**
 * @typedef {import('../lib/types.js').Room} Room
 * @typedef {import('../lib/types.js').Conversation} Conversation
 */

export class WidgetRoom {
  /**
   * @param {object} deps
   * @param {() => import('../lib/parley.js').Connection | null} deps.conn the live connection
   * @param {() => Conversation | null} deps.conversation the conversation on screen
   * @param {(inRoom: boolean) => void} deps.changed the room came or went (the page lays out again)
   * @param {HTMLElement} deps.bar the call bar: #parley-call
   * @param {HTMLElement} deps.slot where the room goes: #parley-room
   */
  constructor({ conn, conversation, changed, bar, slot }) {
    this.conn = conn;
    this.conversation = conversation;
    this.changed = changed;
    this.bar = bar;
    this.slot = slot;
    this.text = /** @type {HTMLElement} */ (bar.querySelector('.call-text'));
    this.cobrowse = /** @type {HTMLButtonElement} */ (bar.querySelector('[data-call="cobrowse"]'));
    this.videoCall = /** @type {HTMLButtonElement} */ (bar.querySelector('[data-call="video"]'));
    this.audioCall = /** @type {HTMLButtonElement} */ (bar.querySelector('[data-call="audio"]'));
    this.error = /** @type {HTMLElement} */ (bar.querySelector('.call-error'));

    this.customerCalls = false;
    /** @type {{id: string, media: string} | null} the conversation's open room */
    this.open = null;
    /** @type {{session: RoomSession, view: RoomView} | null} */
    this.current = null;
    this.working = false;

    this.cobrowse.addEventListener('click', () => {
      if (this.open) void this.enter(this.open.id, this.open.media);
    });
    this.videoCall.addEventListener('click', () => void this.call('video'));
    this.audioCall.addEventListener('click', () => void this.call('audio'));
  }

  /** @param {{customer_calls?: boolean}} settings */
  configure(settings) {
    this.customerCalls = settings.customer_calls === true;
    this.render();
  }

  /**
   * A room event of the conversation's transcript.
   * @param {{kind: string, room_id?: string}} ev
   */
  event(ev) {
    if (ev.kind === 'room_created' && ev.room_id) {
      if (this.open?.id !== ev.room_id) this.open = { id: ev.room_id, media: 'video' };
      this.render();
    } else if (ev.kind === 'room_ended' && (!ev.room_id || this.open?.id === ev.room_id)) {
      this.open = null;
      this.render();
    }
  }

  /**
   * room.opened: a room of the conversation on screen opened.
   * @param {{room: Room}} data
   */
  opened(data) {
    const conv = this.conversation();
    const room = data?.room;
    if (!room || !conv || room.conversation_id !== conv.id || room.ended_at) return;
    this.open = { id: room.id, media: room.media ?? 'video' };
    this.render();
  }

  /** The conversation left the screen (a new chat): leave its room. */
  reset() {
    this.open = null;
    this.error.hidden = true;
    if (this.current) void this.current.session.leave();
    this.render();
  }

  /** Shows what fits: the room, the buttons, or nothing. */
  render() {
    const conv = this.conversation();
    const inRoom = this.current !== null;
    const active = conv !== null && conv.state === 'active';
    if (conv?.state === 'closed') this.open = null;
    const cobrowse = !inRoom && active && this.open !== null;
    const calls = !inRoom && active && this.open === null && this.customerCalls;
    this.cobrowse.hidden = !cobrowse;
    this.videoCall.hidden = !calls;
    this.audioCall.hidden = !calls;
    setText(this.text, cobrowse ? 'Your agent invites you to co-browse.' : calls ? 'Talk to us:' : '');
    this.text.hidden = !(cobrowse || calls);
    for (const b of [this.cobrowse, this.videoCall, this.audioCall]) b.disabled = this.working;
    this.bar.hidden = !(cobrowse || calls || !this.error.hidden);
    this.slot.hidden = !inRoom;
  }

  /**
   * The customer calls: the conversation's room (a new one, or the one
   * open), joined at once.
   * @param {'video' | 'audio'} media
   */
  async call(media) {
    const c = this.conn();
    const conv = this.conversation();
    if (!c || !conv || this.working) return;
    this.busy(true);
    try {
      const answer = /** @type {{room: Room}} */ (await c.request('room.create', { conversation_id: conv.id, media }));
      this.open = { id: answer.room.id, media: answer.room.media ?? media };
      await this.join(c, answer.room.id, answer.room.media ?? media);
    } catch (err) {
      this.fail(`The call could not start: ${messageOf(err)}`);
    } finally {
      this.busy(false);
    }
  }

  /**
   * "Open co-browsing": joins the open room.
   * @param {string} roomId
   * @param {string} media
   */
  async enter(roomId, media) {
    const c = this.conn();
    if (!c || this.working) return;
    this.busy(true);
    try {
      await this.join(c, roomId, media);
    } catch (err) {
      const code = /** @type {{code?: string}} */ (err).code;
      if (code === 'conflict' || code === 'not_found') this.open = null; // ended meanwhile
      this.fail(`You could not join: ${messageOf(err)}`);
    } finally {
      this.busy(false);
    }
  }

  /**
   * @param {import('../lib/parley.js').Connection} c
   * @param {string} roomId
   * @param {string} media
   */
  async join(c, roomId, media) {
    this.error.hidden = true;
    const session = new RoomSession(c, { video: { width: { ideal: 960 }, height: { ideal: 540 }, frameRate: { ideal: 24 } } });
    const view = new RoomView(session, { holdAudio: 'Unmute agent', compact: true, label: 'Co-browsing' });
    const current = { session, view };
    this.current = current;
    session.on('ended', ({ reason }) => {
      if (this.current !== current) return;
      this.current = null;
      view.destroy();
      this.slot.replaceChildren();
      if (reason === 'ended' || reason === 'empty') this.open = null;
      if (reason === 'disconnected') this.fail('The connection dropped, so you left the call.');
      this.render();
      this.changed(false);
      // The call's server went away: join again, on another.
      if (reason === 'moved') this.join(c, roomId, media).catch((err) => this.fail(`Could not join the call again: ${messageOf(err)}`));
    });
    this.slot.replaceChildren(view.element);
    this.render();
    this.changed(true);
    try {
      await session.join(roomId, { camera: media !== 'audio', microphone: true });
    } catch (err) {
      if (this.current === current) {
        this.current = null;
        view.destroy();
        this.slot.replaceChildren();
        this.render();
        this.changed(false);
      }
      throw err;
    }
  }

  /** @param {string} message */
  fail(message) {
    setText(this.error, message);
    this.error.hidden = false;
    this.render();
  }

  /** @param {boolean} on */
  busy(on) {
    this.working = on;
    this.render();
  }
}

/** @param {unknown} err */
function messageOf(err) {
  const e = /** @type {{code?: string, message?: string}} */ (err);
  if (e?.code === 'disconnected') return 'Not connected. Please try again in a moment.';
  if (e?.code === 'timeout') return 'No answer. Please try again.';
  return sentence(e?.message || String(err));
}
