// @ts-check
// The one client of Parley's video rooms (docs/protocol.md, "Rooms" and
// "rtc.*"), over the page's parley.js Connection. Every page with video
// uses it: the desk, the widget, the conference page. It knows nothing of
// the DOM; view.js shows a RoomSession.
//
// Usage:
//
//   import { RoomSession } from '../room/room.js';
//   const room = new RoomSession(conn);               // conn: a connected Connection
//   room.on('change', () => render(room.participants)); // anything shown changed
//   room.on('ended', ({ reason }) => teardown());      // over: left, ended, empty, disconnected, moved…
//   room.on('error', ({ message }) => tell(message));  // a device or a request failed; the room goes on
//   await room.join(roomId, { camera: true, microphone: true }); // rejects with a ProtocolError
//   await room.setCamera(false); await room.setMicrophone(true);
//   await room.startScreen(); await room.stopScreen();
//   await room.leave();
//
// Two PeerConnections: "up", on which this browser
// publishes (it offers with rtc.offer requests), and "down", on which it
// receives (the server offers with rtc.offer events, answered with
// rtc.answer). Candidates trickle both ways with rtc.candidate; remote ones
// wait until their connection has the matching remote description. A
// received track is matched to its publisher by the down offer's
// a=msid:PARTICIPANT TRACK line, and described by room.track.

import { ProtocolError } from '../lib/parley.js';
import { errorText } from '../lib/util.js';
import { deviceText, msidByMid, preferCodecs, SIMULCAST, SIMULCAST_MIN_HEIGHT } from './media.js';

/**
 * @typedef {import('../lib/types.js').Source} Source
 * @typedef {import('../lib/types.js').Room} Room
 * @typedef {import('../lib/types.js').WireTrack} WireTrack
 * @typedef {import('../lib/types.js').WireParticipant} WireParticipant
 * @typedef {import('../lib/types.js').JoinAnswer} JoinAnswer
 *
 * @typedef {object} RoomTrack a published track: this browser's, or another participant's
 * @property {string} id the publisher's track id (its MediaStreamTrack.id, the msid)
 * @property {'audio' | 'video'} kind
 * @property {Source} source
 * @property {boolean} muted the publisher muted it: nothing is forwarded
 * @property {MediaStreamTrack | null} track the media: the local track, or the
 *   received one (null until the down connection carries it)
 *
 * @typedef {object} RoomParticipant
 * @property {string} id
 * @property {string} name
 * @property {string} kind customer, agent, supervisor, admin or guest
 * @property {boolean} receiveOnly
 * @property {boolean} local this browser
 * @property {Map<string, RoomTrack>} tracks by track id
 *
 * @typedef {'left' | 'ended' | 'empty' | 'disconnected' | 'media_timeout' | 'moved' | 'failed'} EndReason
 *   left: leave() was called; ended, empty: the server ended the room;
 *   disconnected: the websocket closed (the server left the room for us);
 *   media_timeout: the server removed us; moved: the node holding the room's
 *   media went away (room.moved): join the same room id again with a new
 *   session, and it goes on on another node; failed: join failed after the ack
 *
 * @typedef {'idle' | 'joining' | 'joined' | 'over'} SessionState
 * @typedef {'new' | 'connecting' | 'connected' | 'reconnecting'} MediaState
 *
 * @typedef {object} RoomEvents what on() may listen to, and what the handler gets
 * @property {void} change participants, tracks, mute states, media state or this
 *   browser's devices changed: render again from room.participants
 * @property {{participant: RoomParticipant}} joined someone joined
 * @property {{participant: RoomParticipant, reason: string}} left someone left
 *   (reason: left, disconnected, media_timeout)
 * @property {{reason: EndReason}} ended the session is over, for whatever
 *   reason; sent once. Local tracks are stopped, both connections closed.
 * @property {{message: string, error: unknown}} error something failed that the
 *   person should hear of (a camera refused, a request refused); the room goes on
 *
 * @typedef {object} JoinOptions
 * @property {boolean} [receiveOnly] join without publishing (supervisors)
 * @property {boolean} [camera] publish the camera at once
 * @property {boolean} [microphone] publish the microphone at once
 *
 * @typedef {object} SessionOptions
 * @property {MediaTrackConstraints} [video] camera constraints; default up to 1280×720
 * @property {MediaTrackConstraints} [audio] microphone constraints
 * @property {boolean} [simulcast] send three layers (l, m, h) of a camera of
 *   about 360 lines or more; default true
 *
 * @typedef {object} ReceiveStats one received track's inbound-rtp statistics
 * @property {string} participantId
 * @property {string} trackId
 * @property {Source} source
 * @property {'audio' | 'video'} kind
 * @property {number} packetsReceived
 * @property {number} bytesReceived
 * @property {number} framesDecoded video only, else 0
 * @property {number} frameWidth video only, else 0
 * @property {number} frameHeight video only, else 0
 *
 * @typedef {{source: Source, sender: RTCRtpSender, transceiver: RTCRtpTransceiver, info: RoomTrack}} Published
 */

/** Time an ICE restart gets before another is tried. */
const RESTART_AGAIN_MS = 8000;

/** @type {MediaTrackConstraints} */
const DEFAULT_VIDEO = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
/** @type {MediaTrackConstraints} */
const DEFAULT_AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/**
 * One participation in one room, on one Connection. Make a new one to join
 * again after it ended.
 */
export class RoomSession {
  /**
   * @param {import('../lib/parley.js').Connection} conn a connected Connection
   * @param {SessionOptions} [options]
   */
  constructor(conn, options = {}) {
    this.conn = conn;
    this.videoConstraints = options.video ?? DEFAULT_VIDEO;
    this.audioConstraints = options.audio ?? DEFAULT_AUDIO;
    this.simulcast = options.simulcast ?? true;

    /** @type {SessionState} */
    this.state = 'idle';
    /** @type {MediaState} */
    this.mediaState = 'new';
    /** @type {string} the room's id, once join() was called */
    this.roomId = '';
    /** @type {Room | null} the room, from the join answer */
    this.room = null;
    /** @type {string} this browser's participant id, from the join answer */
    this.participantId = '';
    this.receiveOnly = false;
    /** @type {Promise<void>} settles once join()'s room.join is answered and handled (or failed) */
    this.joinHandled = Promise.resolve();
    /** @type {RTCPeerConnection | null} publishes (null when receive-only); for diagnostics */
    this.up = null;
    /** @type {RTCPeerConnection | null} receives; for diagnostics */
    this.down = null;

    /** @type {RoomParticipant} this browser */
    this.local = { id: '', name: conn.hello?.principal.name ?? '', kind: '', receiveOnly: false, local: true, tracks: new Map() };
    /** @type {Map<string, RoomParticipant>} the others, by id, in order of arrival */
    this.remote = new Map();
    /** @type {Map<Source, Published>} what this browser publishes */
    this.published = new Map();
    /** @type {Map<string, MediaStreamTrack>} received tracks by "participant\ntrack" (from the down SDP's msid) */
    this.received = new Map();

    /** @type {{[K in keyof RoomEvents]?: Set<(data: RoomEvents[K]) => void>}} */
    this.handlers = {};
    /** @type {Array<() => void>} undoes what join() hooked up */
    this.unhook = [];
    /** @type {import('../lib/parley.js').Envelope[] | null} events that came while the join was answered */
    this.early = null;

    // Signalling order: one up negotiation and one down answer at a time.
    /** @type {Promise<void> | null} */
    this.upRunning = null;
    this.upAgain = false;
    this.upRestart = false;
    /** @type {Promise<void>} */
    this.downChain = Promise.resolve();
    /** remote candidates waiting for their description, per target */
    /** @type {{up: RTCIceCandidateInit[], down: RTCIceCandidateInit[]}} */
    this.remoteCandidates = { up: [], down: [] };
    /** remote candidates wait while their connection's remote description is being set */
    this.holdRemote = { up: false, down: false };
    /** local candidates wait until the description they belong to is on the socket */
    this.holdLocal = { up: false, down: false };
    /** @type {{up: RTCIceCandidateInit[], down: RTCIceCandidateInit[]}} */
    this.localCandidates = { up: [], down: [] };
    this.restartedAt = 0;
    /** @type {Promise<void> | null} getUserMedia under way for the camera/microphone */
    this.acquiring = null;
  }

  // ------------------------------------------------------------ the API

  /**
   * Listens to one kind of event. Returns a function that stops listening.
   * @template {keyof RoomEvents} K
   * @param {K} type
   * @param {(data: RoomEvents[K]) => void} handler
   * @returns {() => void}
   */
  on(type, handler) {
    const set = /** @type {Set<(data: RoomEvents[K]) => void>} */ (this.handlers[type] ??= /** @type {any} */ (new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  /** Everyone in the room: this browser first, then the others in order of arrival. */
  get participants() {
    return [this.local, ...this.remote.values()];
  }

  /** Whether this browser's camera is published and not muted. */
  get cameraOn() {
    return isLive(this.published.get('camera'));
  }

  /** Whether this browser's microphone is published and not muted. */
  get microphoneOn() {
    return isLive(this.published.get('microphone'));
  }

  /** Whether this browser shares its screen. */
  get sharing() {
    return this.published.has('screen');
  }

  /** The local tracks being sent (camera, microphone, screen, screen audio). */
  localTracks() {
    return [...this.published.values()].map((p) => /** @type {MediaStreamTrack} */ (p.info.track));
  }

  /**
   * Joins the room: room.join, then the two connections, then (when asked)
   * the camera and microphone. Rejects with the server's ProtocolError
   * (forbidden, not_found, conflict "This room has ended"…); a camera that
   * cannot be had does not fail the join, it is told as an 'error' event.
   * @param {string} roomId
   * @param {JoinOptions} [options]
   * @returns {Promise<JoinAnswer>}
   */
  async join(roomId, options = {}) {
    if (this.state !== 'idle') throw new ProtocolError('conflict', 'This room session was used already; make a new one.');
    this.state = 'joining';
    const entering = this.requestJoin(roomId, options.receiveOnly === true);
    this.joinHandled = entering.then(
      () => {},
      () => {},
    );
    const answer = await entering;
    if (!this.receiveOnly && (options.camera || options.microphone)) {
      await this.acquire(options.camera === true, options.microphone === true);
    }
    return answer;
  }

  /**
   * join's room.join and what its answer sets up (the participants, the
   * two connections, the events that came before it); 'joined' once it
   * resolves, unless the session was left meanwhile.
   * @param {string} roomId
   * @param {boolean} receiveOnly
   * @returns {Promise<JoinAnswer>}
   */
  async requestJoin(roomId, receiveOnly) {
    this.roomId = roomId;
    this.early = [];
    this.hook();
    /** @type {JoinAnswer} */
    let answer;
    try {
      answer = await this.conn.request('room.join', { room_id: roomId, receive_only: receiveOnly });
    } catch (err) {
      this.early = null;
      this.unhookAll();
      this.state = 'idle';
      throw err;
    }
    if (this.state !== 'joining') return answer; // left meanwhile
    try {
      this.room = answer.room;
      this.participantId = answer.participant_id;
      this.receiveOnly = answer.receive_only;
      this.local.id = answer.participant_id;
      this.local.receiveOnly = answer.receive_only;
      this.local.kind = this.conn.hello?.principal.kind === 'visitor' ? 'customer' : this.conn.hello?.principal.role ?? '';
      for (const p of answer.participants ?? []) if (p.id !== this.participantId) this.addParticipant(p);
      const config = { iceServers: answer.ice_servers ?? [], bundlePolicy: /** @type {RTCBundlePolicy} */ ('max-bundle') };
      this.down = this.makePC('down', config);
      if (!this.receiveOnly) this.up = this.makePC('up', config);
      this.state = 'joined';
      this.mediaState = 'connected'; // nothing negotiated yet: nothing to wait for
      registry().add(this);
      const early = this.early ?? [];
      this.early = null;
      for (const env of early) this.dispatch(env);
    } catch (err) {
      this.finish('failed', true);
      throw err;
    }
    this.emit('change', undefined);
    return answer;
  }

  /**
   * Turns the camera on (publishing it the first time) or off (muted:
   * nothing is sent and the others see it off).
   * @param {boolean} on
   */
  async setCamera(on) {
    if (on && !this.published.has('camera')) return this.acquire(true, false);
    await this.setMuted('camera', !on);
  }

  /**
   * Turns the microphone on (publishing it the first time) or off (muted).
   * @param {boolean} on
   */
  async setMicrophone(on) {
    if (on && !this.published.has('microphone')) return this.acquire(false, true);
    await this.setMuted('microphone', !on);
  }

  /**
   * Shares a screen, window or tab (the browser asks which), with its audio
   * when the browser offers it. Must be called from a click. Resolves false
   * when the person cancelled the choice. With given, shares that display
   * stream instead of asking (a page that asked on a click, before it
   * joined); it is stopped when it cannot be shared.
   * @param {MediaStream} [given]
   * @returns {Promise<boolean>}
   */
  async startScreen(given) {
    if (!this.canPublish() || this.published.has('screen')) {
      for (const t of given?.getTracks() ?? []) t.stop();
      return this.published.has('screen');
    }
    /** @type {MediaStream} */
    let stream;
    try {
      stream = given ?? (await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: true }));
    } catch (err) {
      if (err instanceof DOMException && err.name === 'NotAllowedError') return false; // cancelled
      this.fail(`Could not share the screen: ${deviceText(err)}`, err);
      return false;
    }
    if (!this.canPublish()) {
      for (const t of stream.getTracks()) t.stop();
      return false;
    }
    const video = stream.getVideoTracks()[0];
    if (!video) {
      for (const t of stream.getTracks()) t.stop();
      return false;
    }
    if ('contentHint' in video) video.contentHint = 'detail';
    // The browser's own "Stop sharing" ends the track.
    video.addEventListener('ended', () => void this.stopScreen());
    this.addPublished('screen', video);
    const audio = stream.getAudioTracks()[0];
    if (audio) {
      audio.addEventListener('ended', () => void this.unpublish('screen-audio'));
      this.addPublished('screen-audio', audio);
    }
    this.emit('change', undefined);
    await this.negotiateUp(false);
    return true;
  }

  /** Stops sharing the screen (and its audio). */
  async stopScreen() {
    const a = this.removePublished('screen');
    const b = this.removePublished('screen-audio');
    if (!a && !b) return;
    this.emit('change', undefined);
    if (this.state === 'joined') await this.negotiateUp(false);
  }

  /**
   * Asks for at most a simulcast layer of one received video (0 low, 1
   * medium, 2 high), e.g. for a small tile.
   * @param {string} participantId
   * @param {string} trackId
   * @param {0 | 1 | 2} layer
   */
  async setMaxLayer(participantId, trackId, layer) {
    if (this.state !== 'joined') return;
    await this.request('rtc.layer', { room_id: this.roomId, participant_id: participantId, track_id: trackId, max_layer: layer });
  }

  /**
   * Leaves the room: every local track stops, both connections close,
   * room.leave tells the server. Resolves once the server answered (or the
   * socket is gone); 'ended' with reason "left" is sent first.
   */
  async leave() {
    if (this.state === 'idle' || this.state === 'over') return;
    const roomId = this.roomId;
    this.finish('left', true);
    await this.conn.request('room.leave', { room_id: roomId }).catch(() => {});
  }

  /**
   * Ends the room for everyone (the conversation's agent, the conference's
   * creator). Called while the join is on its way (a click on End as soon
   * as the room shows), it waits for the join's answer first: the room the
   * person sees is the one that ends.
   */
  async end() {
    if (this.state === 'joining') await this.joinHandled;
    if (this.state !== 'joined') return;
    await this.conn.request('room.end', { room_id: this.roomId });
  }

  /**
   * The inbound-rtp statistics of every received track, matched to its
   * participant and source: for diagnostics and tests.
   * @returns {Promise<ReceiveStats[]>}
   */
  async receiveStats() {
    const pc = this.down;
    if (!pc) return [];
    /** @type {ReceiveStats[]} */
    const out = [];
    const stats = await pc.getStats();
    /** @type {Map<string, any>} inbound-rtp by trackIdentifier */
    const inbound = new Map();
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.trackIdentifier) inbound.set(s.trackIdentifier, s);
    });
    for (const p of this.remote.values()) {
      for (const t of p.tracks.values()) {
        const s = t.track ? inbound.get(t.track.id) : undefined;
        if (!s) continue;
        out.push({
          participantId: p.id,
          trackId: t.id,
          source: t.source,
          kind: t.kind,
          packetsReceived: s.packetsReceived ?? 0,
          bytesReceived: s.bytesReceived ?? 0,
          framesDecoded: s.framesDecoded ?? 0,
          frameWidth: s.frameWidth ?? 0,
          frameHeight: s.frameHeight ?? 0,
        });
      }
    }
    return out;
  }

  // ------------------------------------------------------- the wire in

  /** Listens to the room's events and to the socket the room lives on. */
  hook() {
    for (const type of ['room.participant_joined', 'room.participant_left', 'room.track', 'room.track_ended', 'room.ended', 'room.moved', 'rtc.offer', 'rtc.candidate']) {
      this.unhook.push(
        this.conn.on(type, (data, env) => {
          if (data?.room_id !== this.roomId) return;
          if (this.early) this.early.push(env);
          else if (this.state === 'joined') this.dispatch(env);
        }),
      );
    }
    // The server leaves every room of a websocket that closes.
    const ws = this.conn.ws;
    if (ws) {
      const lost = () => {
        if (this.state === 'joined' || this.state === 'joining') this.finish('disconnected', false);
      };
      ws.addEventListener('close', lost);
      this.unhook.push(() => ws.removeEventListener('close', lost));
    }
  }

  unhookAll() {
    for (const f of this.unhook.splice(0)) f();
  }

  /** @param {import('../lib/parley.js').Envelope} env */
  dispatch(env) {
    const d = env.data ?? {};
    switch (env.type) {
      case 'room.participant_joined': {
        const p = this.addParticipant(d.participant);
        if (p) {
          this.applyReceived();
          this.emit('joined', { participant: p });
          this.emit('change', undefined);
        }
        break;
      }
      case 'room.participant_left': {
        if (d.participant_id === this.participantId) {
          this.finish(d.reason === 'media_timeout' ? 'media_timeout' : 'disconnected', false);
          return;
        }
        const p = this.remote.get(d.participant_id);
        if (!p) return;
        this.remote.delete(p.id);
        this.emit('left', { participant: p, reason: String(d.reason ?? 'left') });
        this.emit('change', undefined);
        break;
      }
      case 'room.track': {
        const p = this.remote.get(d.participant_id);
        const t = /** @type {WireTrack | undefined} */ (d.track);
        if (!p || !t?.track_id) return;
        const known = p.tracks.get(t.track_id);
        if (known) {
          known.muted = t.muted === true;
          if (t.source) known.source = t.source;
        } else {
          p.tracks.set(t.track_id, remoteTrack(t));
          this.applyReceived();
        }
        this.emit('change', undefined);
        break;
      }
      case 'room.track_ended': {
        const p = this.remote.get(d.participant_id);
        if (p?.tracks.delete(d.track_id)) this.emit('change', undefined);
        break;
      }
      case 'room.ended':
        this.finish(d.reason === 'empty' ? 'empty' : 'ended', false);
        break;
      case 'room.moved': // the server took us out: the page joins again
        this.finish('moved', false);
        break;
      case 'rtc.offer':
        if (typeof d.sdp === 'string') this.downChain = this.downChain.then(() => this.answerDown(d.sdp));
        break;
      case 'rtc.candidate':
        if (d.candidate && (d.target === 'up' || d.target === 'down')) this.remoteCandidate(d.target, d.candidate);
        break;
      default:
    }
  }

  /**
   * @param {WireParticipant} w
   * @returns {RoomParticipant | null}
   */
  addParticipant(w) {
    if (!w?.id || w.id === this.participantId) return null;
    /** @type {RoomParticipant} */
    const p = { id: w.id, name: w.name ?? '', kind: w.kind ?? '', receiveOnly: w.receive_only === true, local: false, tracks: new Map() };
    for (const t of w.tracks ?? []) if (t?.track_id) p.tracks.set(t.track_id, remoteTrack(t));
    this.remote.set(p.id, p);
    return p;
  }

  // --------------------------------------------------------- connections

  /**
   * @param {'up' | 'down'} target
   * @param {RTCConfiguration} config
   */
  makePC(target, config) {
    const pc = new RTCPeerConnection(config);
    pc.addEventListener('icecandidate', (e) => {
      if (!e.candidate?.candidate || this.state !== 'joined') return;
      const c = e.candidate.toJSON();
      if (this.holdLocal[target]) this.localCandidates[target].push(c);
      else this.sendCandidate(target, c);
    });
    pc.addEventListener('iceconnectionstatechange', () => this.iceChanged());
    return pc;
  }

  /**
   * @param {'up' | 'down'} target
   * @param {RTCIceCandidateInit} candidate
   */
  sendCandidate(target, candidate) {
    this.conn.request('rtc.candidate', { room_id: this.roomId, target, candidate }).catch(() => {});
  }

  /** @param {'up' | 'down'} target */
  flushLocalCandidates(target) {
    for (const c of this.localCandidates[target].splice(0)) this.sendCandidate(target, c);
  }

  /**
   * @param {'up' | 'down'} target
   * @param {RTCIceCandidateInit} candidate
   */
  remoteCandidate(target, candidate) {
    const pc = target === 'up' ? this.up : this.down;
    if (!pc) return;
    if (this.holdRemote[target] || !pc.remoteDescription) {
      this.remoteCandidates[target].push(candidate);
      return;
    }
    pc.addIceCandidate(candidate).catch((err) => console.warn(`parley room: ${target} candidate`, err));
  }

  /** @param {'up' | 'down'} target */
  async flushRemoteCandidates(target) {
    const pc = target === 'up' ? this.up : this.down;
    for (const c of this.remoteCandidates[target].splice(0)) {
      await pc?.addIceCandidate(c).catch((err) => console.warn(`parley room: ${target} candidate`, err));
    }
  }

  /**
   * Answers the server's offer for the down connection.
   * @param {string} sdp
   */
  async answerDown(sdp) {
    const pc = this.down;
    if (!pc || this.state !== 'joined') return;
    this.holdLocal.down = true;
    this.holdRemote.down = true;
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      this.holdRemote.down = false;
      await this.flushRemoteCandidates('down');
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      if (this.state !== 'joined') return;
      const sent = this.request('rtc.answer', { room_id: this.roomId, sdp: pc.localDescription?.sdp ?? answer.sdp });
      // The answer is on the socket first, so the server has it before these.
      this.holdLocal.down = false;
      this.flushLocalCandidates('down');
      this.bindReceived(sdp);
      this.updateMedia();
      await sent;
    } catch (err) {
      if (this.state === 'joined') this.fail('The others\' video could not be received.', err);
    } finally {
      this.holdLocal.down = false;
      this.holdRemote.down = false;
      this.flushLocalCandidates('down');
    }
  }

  /**
   * Which received track is whose: each m-line the server sends on names
   * its publisher in a=msid (PARTICIPANT TRACK).
   * @param {string} sdp the down offer just answered
   */
  bindReceived(sdp) {
    const pc = this.down;
    if (!pc) return;
    const byMid = msidByMid(sdp);
    this.received.clear();
    for (const tr of pc.getTransceivers()) {
      const m = tr.mid !== null ? byMid.get(tr.mid) : undefined;
      if (m && tr.currentDirection !== 'stopped') this.received.set(`${m.stream}\n${m.track}`, tr.receiver.track);
    }
    this.applyReceived();
    this.emit('change', undefined);
  }

  /** Gives each known remote track its received media (or null). */
  applyReceived() {
    for (const p of this.remote.values()) {
      for (const t of p.tracks.values()) t.track = this.received.get(`${p.id}\n${t.id}`) ?? null;
    }
  }

  /**
   * Offers the up connection's tracks; one negotiation at a time, and one
   * more after it when something changed meanwhile.
   * @param {boolean} iceRestart
   * @returns {Promise<void>}
   */
  negotiateUp(iceRestart) {
    this.upAgain = true;
    if (iceRestart) this.upRestart = true;
    if (this.upRunning) return this.upRunning;
    const run = async () => {
      try {
        while (this.upAgain && this.state === 'joined') {
          this.upAgain = false;
          const restart = this.upRestart;
          this.upRestart = false;
          await this.offerUp(restart);
        }
      } finally {
        this.upRunning = null;
      }
    };
    this.upRunning = run().catch((err) => {
      if (this.state === 'joined') this.fail(`Could not send your video: ${errorText(err)}`, err);
    });
    return this.upRunning;
  }

  /** @param {boolean} iceRestart */
  async offerUp(iceRestart) {
    const pc = this.up;
    if (!pc) return;
    if (pc.getTransceivers().length === 0) return; // nothing was ever published
    this.holdLocal.up = true;
    this.holdRemote.up = true;
    try {
      const offer = await pc.createOffer(iceRestart ? { iceRestart: true } : undefined);
      await pc.setLocalDescription(offer);
      if (this.state !== 'joined') return;
      const tracks = [...this.published.values()].map((p) => ({ track_id: p.info.id, source: p.source, muted: p.info.muted }));
      const answering = this.request('rtc.offer', { room_id: this.roomId, sdp: pc.localDescription?.sdp ?? offer.sdp, tracks });
      // The offer is on the socket first, so the server has it before these.
      this.holdLocal.up = false;
      this.flushLocalCandidates('up');
      const answer = /** @type {{sdp: string}} */ (await answering);
      if (this.state !== 'joined' || pc.signalingState !== 'have-local-offer') return;
      await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
      this.holdRemote.up = false;
      await this.flushRemoteCandidates('up');
      this.updateMedia();
    } finally {
      this.holdLocal.up = false;
      this.holdRemote.up = false;
      this.flushLocalCandidates('up');
      if (pc.signalingState === 'have-local-offer' && this.state === 'joined') {
        // Refused: back to the last agreed state, so the next offer can be made.
        await pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
      }
    }
  }

  /**
   * The media's state, from the ICE states of the connections that have
   * negotiated: none yet (nothing to send or receive) counts as connected.
   * @returns {MediaState}
   */
  media() {
    const states = [this.up, this.down]
      .filter((pc) => pc !== null && pc.remoteDescription !== null)
      .map((pc) => /** @type {RTCPeerConnection} */ (pc).iceConnectionState);
    if (states.some((s) => s === 'disconnected' || s === 'failed')) return 'reconnecting';
    if (states.every((s) => s === 'connected' || s === 'completed')) return 'connected';
    return this.mediaState === 'reconnecting' ? 'reconnecting' : 'connecting';
  }

  /** Updates mediaState; a change is a 'change'. */
  updateMedia() {
    if (this.state !== 'joined') return;
    const now = this.media();
    if (now === this.mediaState) return;
    this.mediaState = now;
    this.emit('change', undefined);
  }

  /** ICE of either connection went down: restart it (rtc.restart and an ICE-restarting up offer). */
  iceChanged() {
    if (this.state !== 'joined') return;
    this.updateMedia();
    if (this.mediaState !== 'reconnecting' || Date.now() - this.restartedAt < RESTART_AGAIN_MS) return;
    this.restartedAt = Date.now();
    this.request('rtc.restart', { room_id: this.roomId }).catch(() => {});
    if (this.up && this.up.getTransceivers().length) void this.negotiateUp(true);
    // Still down when its time is up: once more.
    setTimeout(() => this.iceChanged(), RESTART_AGAIN_MS + 100);
  }

  // ------------------------------------------------------------ publishing

  canPublish() {
    return this.state === 'joined' && this.up !== null;
  }

  /**
   * Gets the camera and/or microphone and publishes them (one prompt for
   * both; when that fails, each alone, so one missing device leaves the
   * other).
   * @param {boolean} camera
   * @param {boolean} microphone
   */
  async acquire(camera, microphone) {
    if (!this.canPublish()) return;
    camera = camera && !this.published.has('camera');
    microphone = microphone && !this.published.has('microphone');
    if (!camera && !microphone) return;
    /** @type {MediaStreamTrack[]} */
    let tracks = [];
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        video: camera ? this.videoConstraints : false,
        audio: microphone ? this.audioConstraints : false,
      });
      tracks = stream.getTracks();
    } catch (err) {
      if (camera && microphone) {
        // One of the two may be missing or refused: try each alone.
        await this.acquire(true, false);
        await this.acquire(false, true);
        return;
      }
      this.fail(`${camera ? 'The camera' : 'The microphone'} could not be used: ${deviceText(err)}`, err);
      return;
    }
    if (!this.canPublish()) {
      for (const t of tracks) t.stop();
      return;
    }
    for (const t of tracks) {
      const source = t.kind === 'video' ? 'camera' : 'microphone';
      if (this.published.has(source)) {
        t.stop();
        continue;
      }
      t.addEventListener('ended', () => void this.unpublish(source));
      this.addPublished(source, t);
    }
    this.emit('change', undefined);
    await this.negotiateUp(false);
  }

  /**
   * Adds a local track to the up connection (negotiate afterwards).
   * @param {Source} source
   * @param {MediaStreamTrack} track
   */
  addPublished(source, track) {
    const pc = /** @type {RTCPeerConnection} */ (this.up);
    const stream = new MediaStream([track]);
    /** @type {RTCRtpTransceiverInit} */
    const init = { direction: 'sendonly', streams: [stream] };
    if (source === 'camera') {
      const height = track.getSettings().height ?? 0;
      init.sendEncodings = this.simulcast && height >= SIMULCAST_MIN_HEIGHT ? SIMULCAST.map((e) => ({ ...e })) : [{ maxBitrate: 1_200_000 }];
    } else if (source === 'screen') {
      init.sendEncodings = [{ maxBitrate: 2_500_000 }];
    }
    const transceiver = pc.addTransceiver(track, init);
    preferCodecs(transceiver, track.kind);
    /** @type {RoomTrack} */
    const info = { id: track.id, kind: track.kind === 'audio' ? 'audio' : 'video', source, muted: false, track };
    this.published.set(source, { source, sender: transceiver.sender, transceiver, info });
    this.local.tracks.set(info.id, info);
  }

  /**
   * Takes a local track off the up connection and stops it (negotiate
   * afterwards). Reports whether there was one.
   * @param {Source} source
   */
  removePublished(source) {
    const p = this.published.get(source);
    if (!p) return false;
    this.published.delete(source);
    this.local.tracks.delete(p.info.id);
    p.info.track?.stop();
    if (this.up && this.up.signalingState !== 'closed') {
      try {
        this.up.removeTrack(p.sender);
      } catch {
        // closed meanwhile
      }
    }
    return true;
  }

  /**
   * A local track ended by itself (a device unplugged): take it off.
   * @param {Source} source
   */
  async unpublish(source) {
    if (!this.removePublished(source)) return;
    this.emit('change', undefined);
    if (this.state === 'joined') await this.negotiateUp(false);
  }

  /**
   * Mutes or unmutes a published track: it stops sending (enabled false)
   * and the others are told with rtc.track.
   * @param {Source} source
   * @param {boolean} muted
   */
  async setMuted(source, muted) {
    const p = this.published.get(source);
    if (!p || p.info.muted === muted) return;
    p.info.muted = muted;
    if (p.info.track) p.info.track.enabled = !muted;
    this.emit('change', undefined);
    if (this.state !== 'joined') return;
    await this.request('rtc.track', { room_id: this.roomId, track_id: p.info.id, muted }).catch((err) => {
      this.fail(`Could not tell the others: ${errorText(err)}`, err);
    });
  }

  // ---------------------------------------------------------------- end

  /**
   * Ends the session here: local tracks stop, connections close, handlers
   * go; 'ended' is sent once.
   * @param {EndReason} reason
   * @param {boolean} quiet whether to skip 'change' (a leave the page asked for)
   */
  finish(reason, quiet) {
    if (this.state === 'over') return;
    this.state = 'over';
    this.early = null;
    this.unhookAll();
    for (const p of this.published.values()) p.info.track?.stop();
    this.published.clear();
    this.local.tracks.clear();
    this.up?.close();
    this.down?.close();
    this.received.clear();
    for (const p of this.remote.values()) for (const t of p.tracks.values()) t.track = null;
    this.mediaState = 'new';
    registry().delete(this);
    if (!quiet) this.emit('change', undefined);
    this.emit('ended', { reason });
  }

  // ------------------------------------------------------------- helpers

  /**
   * @param {string} type
   * @param {object} data
   */
  request(type, data) {
    return this.conn.request(type, data);
  }

  /**
   * @param {string} message
   * @param {unknown} error
   */
  fail(message, error) {
    console.warn('parley room:', message, error);
    this.emit('error', { message, error });
  }

  /**
   * @template {keyof RoomEvents} K
   * @param {K} type
   * @param {RoomEvents[K]} data
   */
  emit(type, data) {
    const set = /** @type {Set<(data: RoomEvents[K]) => void> | undefined} */ (this.handlers[type]);
    for (const handler of [...(set ?? [])]) {
      try {
        handler(data);
      } catch (err) {
        console.error(`parley room: ${type} handler failed`, err);
      }
    }
  }
}

/**
 * The sessions joined in this page, for diagnostics and the browser tests
 * (window.__parleyRooms). Holds only what the page holds anyway.
 * @returns {Set<RoomSession>}
 */
function registry() {
  const w = /** @type {{__parleyRooms?: Set<RoomSession>}} */ (/** @type {unknown} */ (globalThis));
  return (w.__parleyRooms ??= new Set());
}

/**
 * @param {Published | undefined} p
 */
function isLive(p) {
  return p !== undefined && !p.info.muted && p.info.track?.readyState === 'live';
}

/**
 * @param {WireTrack} t
 * @returns {RoomTrack}
 */
function remoteTrack(t) {
  return {
    id: t.track_id,
    kind: t.kind === 'audio' ? 'audio' : 'video',
    source: t.source ?? (t.kind === 'audio' ? 'microphone' : 'camera'),
    muted: t.muted === true,
    track: null,
  };
}
