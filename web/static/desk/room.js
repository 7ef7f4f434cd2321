// @ts-check
// Video rooms in the desk (docs/protocol.md, "Rooms"): in the open chat,
// "Create video room" (room.create with the conversation, then join) or
// "Join video room" when the conversation has one open (the customer
// called, or the agent left it); the room itself shows in a dock beside
// the chats, so it keeps playing while the agent moves between chat tabs.
// One room at a time: joining another leaves the one before.

import { byId, setText } from '../lib/dom.js';
import { RoomSession } from '../room/room.js';
import { RoomView } from '../room/view.js';
import { errorText } from '../lib/util.js';

/**
 * @typedef {import('./chat.js').ChatSession} ChatSession
 * @typedef {import('../lib/types.js').Room} Room
 * @typedef {{session: RoomSession, view: RoomView, conversationId: number, name: string}} Current
 */

export class DeskRoom {
  /**
   * @param {object} deps
   * @param {import('../lib/parley.js').Connection} deps.conn
   * @param {import('./notices.js').Notices} deps.notices
   * @param {import('./alerts.js').Alerts} deps.alerts
   * @param {(id: number) => ChatSession | undefined} deps.chat a chat of the desk, by conversation id
   * @param {() => ChatSession | null} deps.active the chat on screen
   */
  constructor({ conn, notices, alerts, chat, active }) {
    this.conn = conn;
    this.notices = notices;
    this.alerts = alerts;
    this.chat = chat;
    this.active = active;
    /** @type {Current | null} */
    this.current = null;
    this.working = false;

    this.main = byId('desk-main');
    this.dock = byId('room-dock');
    this.who = byId('room-dock-who');
    this.slot = byId('room-slot');
    this.endButton = /** @type {HTMLButtonElement} */ (byId('room-end'));
    this.createButton = /** @type {HTMLButtonElement} */ (byId('room-create'));
    this.joinButton = /** @type {HTMLButtonElement} */ (byId('room-join'));

    this.createButton.addEventListener('click', () => {
      const s = this.active();
      if (s) void this.create(s);
    });
    this.joinButton.addEventListener('click', () => {
      const s = this.active();
      if (s?.roomId) void this.join(s, s.roomId);
    });
    this.endButton.addEventListener('click', () => void this.end());
  }

  /**
   * room.opened: a room of one of the agent's chats opened (the customer
   * called, or another tab of the agent made it).
   * @param {{room: Room}} data
   */
  opened(data) {
    const room = data.room;
    if (!room?.conversation_id) return;
    const s = this.chat(room.conversation_id);
    if (!s || room.ended_at) return;
    s.roomOpened(room.id); // its room_created event may have come first
    if (this.current?.session.roomId === room.id) return;
    const by = room.created_by?.kind === 'customer' ? room.created_by.name || s.conv.customer.name : '';
    if (by) {
      const what = room.media === 'audio' ? 'an audio call' : 'a video call';
      this.notices.show(`${by} started ${what}. Open their chat and click Join video room.`, { kind: 'info', key: `room-${room.id}` });
      this.alerts.play('message');
      this.alerts.notify(`${by} is calling`, `${by} started ${what}`, `room-${room.id}`);
    }
  }

  /**
   * Shows the buttons that fit the chat on screen.
   * @param {ChatSession | null} s
   */
  render(s) {
    const inThis = s !== null && this.current !== null && this.current.conversationId === s.id && this.current.session.state !== 'over';
    const open = s !== null && !s.closed && !s.gone;
    this.createButton.hidden = !open || inThis || s?.roomId !== null;
    this.joinButton.hidden = !open || inThis || !s?.roomId;
    this.createButton.disabled = this.working;
    this.joinButton.disabled = this.working;
  }

  /**
   * Creates the chat's room (or gets the one open) and joins it.
   * @param {ChatSession} s
   */
  async create(s) {
    if (this.working) return;
    this.busy(true);
    try {
      const answer = /** @type {{room: Room, created: boolean}} */ (
        await this.conn.request('room.create', { conversation_id: s.id, media: 'video' })
      );
      s.roomOpened(answer.room.id);
      await this.enter(s, answer.room.id);
    } catch (err) {
      this.notices.show(`Could not open a video room: ${errorText(err)}`);
    } finally {
      this.busy(false);
    }
  }

  /**
   * Joins the chat's open room.
   * @param {ChatSession} s
   * @param {string} roomId
   */
  async join(s, roomId) {
    if (this.working) return;
    this.busy(true);
    try {
      await this.enter(s, roomId);
    } catch (err) {
      this.notices.show(`Could not join the video room: ${errorText(err)}`);
    } finally {
      this.busy(false);
    }
  }

  /**
   * @param {ChatSession} s
   * @param {string} roomId
   */
  async enter(s, roomId) {
    this.notices.clear(`room-${roomId}`);
    if (this.current) await this.current.session.leave();
    const session = new RoomSession(this.conn);
    const view = new RoomView(session, { label: `Video room with ${s.conv.customer.name}` });
    /** @type {Current} */
    const current = { session, view, conversationId: s.id, name: s.conv.customer.name };
    this.current = current;
    session.on('ended', ({ reason }) => this.ended(current, reason));
    setText(this.who, s.conv.customer.name);
    this.slot.replaceChildren(view.element);
    this.show(true);
    try {
      await session.join(roomId, { camera: true, microphone: true });
    } catch (err) {
      this.close(current);
      if (/** @type {{code?: string}} */ (err).code === 'conflict' && /ended/i.test(/** @type {Error} */ (err).message)) {
        // It ended before we got there.
        if (s.roomId === roomId) {
          s.roomId = null;
          this.render(this.active());
        }
      }
      throw err;
    }
    this.render(this.active());
  }

  /** Ends the room for everyone (the conversation's agent may). */
  async end() {
    const c = this.current;
    if (!c) return;
    this.endButton.disabled = true;
    try {
      await c.session.end();
    } catch (err) {
      this.notices.show(`Could not end the video room: ${errorText(err)}`);
    } finally {
      this.endButton.disabled = false;
    }
  }

  /**
   * @param {Current} c
   * @param {string} reason
   */
  ended(c, reason) {
    if (reason === 'moved') {
      // The room's node went away: join it again, on another.
      const s = this.chat(c.conversationId);
      const roomId = c.session.roomId;
      this.close(c);
      if (s) {
        this.enter(s, roomId).catch((err) => this.notices.show(`Could not join the video room again: ${errorText(err)}`));
      }
      return;
    }
    if (reason === 'disconnected') this.notices.show('The connection to Parley dropped, so you left the video room. Join it again once the desk says Connected.', { kind: 'info' });
    if (reason === 'media_timeout') this.notices.show('Your video stopped reaching Parley, so you left the video room.', { kind: 'info' });
    if (reason === 'ended' || reason === 'empty') {
      const s = this.chat(c.conversationId);
      if (s && s.roomId === c.session.roomId) {
        s.roomId = null;
      }
    }
    this.close(c);
  }

  /** @param {Current} c */
  close(c) {
    if (this.current !== c) return;
    this.current = null;
    c.view.destroy();
    this.slot.replaceChildren();
    this.show(false);
    this.render(this.active());
  }

  /** @param {boolean} on */
  show(on) {
    this.dock.hidden = !on;
    this.main.classList.toggle('has-room', on);
  }

  /** @param {boolean} on */
  busy(on) {
    this.working = on;
    this.render(this.active());
  }
}
