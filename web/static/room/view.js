// @ts-check
// A video room on screen: a tile per participant (camera, or their initial
// when it is off; name; "Muted" when their microphone is), each screen
// share as a large tile of its own, the controls (camera, microphone,
// share screen, leave) and the "Unmute …" button for held-back audio. It
// shows a RoomSession (room.js) and needs /static/room/room.css.
//
// Usage:
//
//   import { RoomView } from '../room/view.js';
//   const view = new RoomView(room, { holdAudio: 'Unmute agent' }); // room: a RoomSession
//   parent.append(view.element);        // <section class="room">
//   view.controls.append(myButton);     // a page's own buttons go with the others
//   view.destroy();                     // when the page takes it away
//
// Videos play muted (autoplay is then always allowed); sound plays from
// separate <audio> elements. With holdAudio, the others' sound starts
// muted until the person clicks the button (the widget: "Unmute agent").
// With unmuteEach, each participant's sound starts muted and their tile
// has its own "Unmute <name>" button (the conference page). Without
// either, sound plays at once, and when the browser's autoplay rules
// refuse, an "Unmute participant" button lets the person start it.
//
// With fill, the view takes the height its parent gives it and lays the
// tiles out to fill it, as large as they can be at 16:9 (the best number
// of columns for the space and the count). A screen share, or in
// "Speaker view" the person speaking (the loudest received microphone,
// from the down connection's audio levels), takes the large stage and the
// others make a strip under it. The tile of whoever speaks is marked in
// either view.
//
// Names are shown as text (dom.js), never as HTML.

import { el, setText } from '../lib/dom.js';

/**
 * @typedef {import('./room.js').RoomSession} RoomSession
 * @typedef {import('./room.js').RoomParticipant} RoomParticipant
 * @typedef {import('./room.js').RoomTrack} RoomTrack
 *
 * @typedef {object} ViewOptions
 * @property {string} [holdAudio] the others' sound starts muted; this is the
 *   unmute button's text, e.g. "Unmute agent"
 * @property {string} [label] the region's accessible name; default "Video room"
 * @property {boolean} [leave] show the Leave button (default true)
 * @property {string} [you] what this browser's tile is called; default "You"
 * @property {boolean} [compact] tighter, for small windows (the chat widget)
 * @property {boolean} [unmuteEach] each other participant's sound starts muted,
 *   with an "Unmute <name>" button on their tile
 * @property {boolean} [fill] fill the parent's height: tiles as large as the
 *   space allows, a stage and a strip for a screen or the speaker
 *
 * @typedef {object} Tile
 * @property {HTMLElement} node
 * @property {HTMLVideoElement} video
 * @property {HTMLElement} avatar
 * @property {HTMLElement} name
 * @property {HTMLElement} muted
 * @property {HTMLButtonElement | null} unmute the tile's "Unmute <name>" (unmuteEach)
 * @property {MediaStreamTrack | null} shown the track the video shows
 * @property {string} participantId
 * @property {string} trackId the video's track id ("" without one)
 * @property {boolean} remote
 */

const ERROR_SHOWN_MS = 10_000;
/** Device pixels of a tile up to which the low, then the medium simulcast layer is enough. */
const LOW_UP_TO_PX = 360;
const MEDIUM_UP_TO_PX = 720;
/** A tile's width over its height. */
const ASPECT = 16 / 9;
/** How often the audio levels are read to find who speaks. */
const SPEAKER_EVERY_MS = 500;
/** The level (0–1) from which a participant counts as speaking. */
const SPEAKING_LEVEL = 0.02;

export class RoomView {
  /**
   * @param {RoomSession} room
   * @param {ViewOptions} [options]
   */
  constructor(room, options = {}) {
    this.room = room;
    this.you = options.you ?? 'You';
    this.unmuteLabel = options.holdAudio ?? 'Unmute participant';
    /** the others' sound is held back until the person asks for it */
    this.held = options.holdAudio !== undefined;
    /** the browser refused to play sound without a click */
    this.blocked = false;
    this.each = options.unmuteEach === true;
    /** @type {Set<string>} participants whose sound the person let play (unmuteEach) */
    this.released = new Set();
    this.fill = options.fill === true;
    /** Speaker view: the person speaking takes the stage (fill only) */
    this.speakerView = false;
    /** @type {string} the participant speaking, or "" */
    this.speaker = '';
    /** @type {string} the loudest at the last reading: the speaker once loudest twice in a row */
    this.loudest = '';
    /** @type {ReturnType<typeof setInterval> | null} */
    this.speakerTimer = null;

    this.stage = el('div', { class: 'room-stage' });
    this.grid = el('div', { class: 'room-grid' });
    this.status = el('p', { class: 'room-status', role: 'status' });
    this.error = el('p', { class: 'room-error', role: 'alert', hidden: true });
    this.unmute = el('button', { class: 'room-button room-unmute', type: 'button', hidden: true }, this.unmuteLabel);
    this.cameraButton = el('button', { class: 'room-button', type: 'button', 'data-control': 'camera' }, 'Turn on camera');
    this.micButton = el('button', { class: 'room-button', type: 'button', 'data-control': 'microphone' }, 'Unmute microphone');
    this.screenButton = el('button', { class: 'room-button', type: 'button', 'data-control': 'screen' }, 'Share screen');
    this.leaveButton = el('button', { class: 'room-button room-leave', type: 'button', 'data-control': 'leave', hidden: options.leave === false }, 'Leave');
    this.layoutButton = el('button', { class: 'room-button', type: 'button', 'data-control': 'layout', hidden: !this.fill }, 'Speaker view');
    /** the buttons; a page may append its own */
    this.controls = el('div', { class: 'room-controls', role: 'group', 'aria-label': 'Call controls' },
      this.layoutButton, this.cameraButton, this.micButton, this.screenButton, this.leaveButton);
    this.audio = el('div', { class: 'room-audio', hidden: true });
    /** the view's root element: put it on the page */
    this.element = el(
      'section',
      { class: `room${options.compact ? ' room-compact' : ''}${this.fill ? ' room-fill' : ''}`, 'aria-label': options.label ?? 'Video room' },
      this.stage,
      this.grid,
      el('div', { class: 'room-bar' }, this.status, this.unmute, this.controls),
      this.error,
      this.audio,
    );

    /** @type {Map<string, Tile>} tiles by "participant:camera" or "participant:track" */
    this.tiles = new Map();
    /** @type {Map<string, HTMLAudioElement>} by "participant:track" */
    this.sounds = new Map();
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.errorTimer = null;
    this.busy = false;
    /** @type {Map<string, number>} the simulcast layer asked for each received camera, by "participant:track" */
    this.layers = new Map();
    this.layersPending = false;
    // A tile's size says which layer of a camera it needs (rtc.layer).
    this.resize = new ResizeObserver(() => this.scheduleLayers());
    this.resize.observe(this.element);

    this.off = [
      room.on('change', () => this.render()),
      room.on('error', ({ message }) => this.showError(message)),
      room.on('ended', () => this.render()),
    ];
    this.wire();
    this.render();
    this.speakerTimer = setInterval(() => void this.findSpeaker(), SPEAKER_EVERY_MS);
  }

  /** Takes the view's media off (the page removes the element). */
  destroy() {
    for (const f of this.off.splice(0)) f();
    this.resize.disconnect();
    if (this.speakerTimer !== null) clearInterval(this.speakerTimer);
    this.speakerTimer = null;
    for (const t of this.tiles.values()) t.video.srcObject = null;
    for (const a of this.sounds.values()) a.srcObject = null;
    this.tiles.clear();
    this.sounds.clear();
    this.stage.replaceChildren();
    this.grid.replaceChildren();
    this.audio.replaceChildren();
    if (this.errorTimer !== null) clearTimeout(this.errorTimer);
  }

  /** @param {string} message */
  showError(message) {
    setText(this.error, message);
    this.error.hidden = false;
    if (this.errorTimer !== null) clearTimeout(this.errorTimer);
    this.errorTimer = setTimeout(() => {
      this.error.hidden = true;
      this.errorTimer = null;
    }, ERROR_SHOWN_MS);
  }

  // ------------------------------------------------------------- render

  render() {
    const room = this.room;
    const over = room.state === 'over';
    this.element.classList.toggle('room-over', over);
    /** @type {Set<string>} */
    const seenTiles = new Set();
    /** @type {Set<string>} */
    const seenSounds = new Set();
    if (!over) {
      const order = [...room.remote.values(), room.local];
      for (const p of order) {
        if (p.local && p.receiveOnly) continue; // a watcher shows no tile of its own
        const camera = pick(p, 'camera');
        const mic = pick(p, 'microphone');
        const key = `${p.id}:camera`;
        seenTiles.add(key);
        this.renderTile(key, p, camera, mic, 'camera', this.spotlit === p.id ? this.stage : this.grid);
        for (const t of p.tracks.values()) {
          if (t.source === 'screen') {
            const k = `${p.id}:${t.id}`;
            seenTiles.add(k);
            this.renderTile(k, p, t, null, 'screen', p.local ? this.grid : this.stage);
          } else if (t.kind === 'audio' && !p.local && t.track) {
            const k = `${p.id}:${t.id}`;
            seenSounds.add(k);
            this.renderSound(k, t.track, p.id);
          }
        }
      }
    }
    for (const [key, tile] of this.tiles) {
      if (seenTiles.has(key)) continue;
      tile.video.srcObject = null;
      tile.node.remove();
      this.tiles.delete(key);
    }
    for (const [key, audio] of this.sounds) {
      if (seenSounds.has(key)) continue;
      audio.srcObject = null;
      audio.remove();
      this.sounds.delete(key);
    }
    this.element.classList.toggle('room-has-stage', this.stage.childElementCount > 0);
    this.grid.dataset.count = String(this.grid.childElementCount);

    // The unmute button: sound held back, or refused by the browser.
    const remoteAudio = [...room.remote.values()].some((p) => [...p.tracks.values()].some((t) => t.kind === 'audio'));
    this.unmute.hidden = over || !((this.held && !this.each && remoteAudio) || this.blocked);
    for (const tile of this.tiles.values()) {
      if (!tile.unmute) continue;
      const p = room.remote.get(tile.participantId);
      const hasAudio = p !== undefined && [...p.tracks.values()].some((t) => t.kind === 'audio');
      tile.unmute.hidden = !hasAudio || this.released.has(tile.participantId);
    }
    for (const tile of this.tiles.values()) tile.node.dataset.speaking = String(tile.participantId === this.speaker && tile.node.classList.contains('room-tile-camera'));

    // Status.
    const text = over
      ? 'You left the room.'
      : room.state === 'joining'
        ? 'Joining…'
        : room.mediaState === 'reconnecting'
          ? 'Reconnecting…'
          : room.mediaState === 'connected' || room.remote.size === 0
            ? room.remote.size === 0
              ? 'Waiting for others to join…'
              : ''
            : 'Connecting…';
    setText(this.status, text);
    this.status.hidden = text === '';

    // Controls.
    const publish = room.state === 'joined' && !room.receiveOnly;
    this.cameraButton.hidden = !publish;
    this.micButton.hidden = !publish;
    this.screenButton.hidden = !publish || typeof navigator.mediaDevices?.getDisplayMedia !== 'function';
    this.leaveButton.disabled = over;
    setText(this.cameraButton, room.cameraOn ? 'Turn off camera' : 'Turn on camera');
    this.cameraButton.dataset.on = String(room.cameraOn);
    setText(this.micButton, room.microphoneOn ? 'Mute microphone' : 'Unmute microphone');
    this.micButton.dataset.on = String(room.microphoneOn);
    setText(this.screenButton, room.sharing ? 'Stop sharing' : 'Share screen');
    setText(this.layoutButton, this.speakerView ? 'Grid view' : 'Speaker view');
    this.screenButton.dataset.on = String(room.sharing);
    for (const b of [this.cameraButton, this.micButton, this.screenButton]) b.disabled = this.busy;
    this.scheduleLayers();
  }

  scheduleLayers() {
    if (this.layersPending) return;
    this.layersPending = true;
    requestAnimationFrame(() => {
      this.layersPending = false;
      this.layout();
      this.updateLayers();
    });
  }

  /**
   * The participant whose camera tile is on the stage: in Speaker view with
   * no screen shared, the one speaking (or else the first other one).
   * @returns {string}
   */
  get spotlit() {
    if (!this.fill || !this.speakerView || this.room.state === 'over') return '';
    const screens = [...this.room.remote.values()].some((p) => [...p.tracks.values()].some((t) => t.source === 'screen'));
    if (screens) return '';
    if (this.speaker && this.room.remote.has(this.speaker)) return this.speaker;
    const [first] = this.room.remote.keys();
    return first ?? '';
  }

  /**
   * Fill: sizes the grid's tiles to fill it, as large as they can be at
   * 16:9: the number of columns that gives the largest tile wins. With a
   * stage, the grid is a strip of one row.
   */
  layout() {
    const grid = this.grid;
    if (!this.fill) return;
    const n = grid.childElementCount;
    const width = grid.clientWidth;
    const height = grid.clientHeight;
    if (n === 0 || width === 0 || height === 0) return;
    const gap = parseFloat(getComputedStyle(grid).columnGap) || 0;
    const strip = this.element.classList.contains('room-has-stage');
    let best = { cols: 1, w: 0 };
    for (let cols = strip ? n : 1; cols <= n; cols++) {
      const rows = Math.ceil(n / cols);
      const w = Math.min((width - gap * (cols - 1)) / cols, ((height - gap * (rows - 1)) / rows) * ASPECT);
      if (w > best.w) best = { cols, w };
    }
    grid.style.gridTemplateColumns = `repeat(${best.cols}, ${Math.max(1, Math.floor(best.w))}px)`;
  }

  /**
   * Reads the received microphones' levels and marks who speaks: the
   * loudest above SPEAKING_LEVEL at two readings in a row (so the stage
   * does not flicker between two voices), kept until someone else is.
   */
  async findSpeaker() {
    const pc = this.room.down;
    if (!pc || this.room.state !== 'joined') return;
    /** @type {Map<MediaStreamTrack, string>} */
    const owner = new Map();
    for (const p of this.room.remote.values()) {
      for (const t of p.tracks.values()) if (t.kind === 'audio' && t.source === 'microphone' && t.track && !t.muted) owner.set(t.track, p.id);
    }
    let loudest = '';
    let level = SPEAKING_LEVEL;
    for (const r of pc.getReceivers()) {
      const id = owner.get(r.track);
      if (!id) continue;
      for (const s of r.getSynchronizationSources()) {
        if ((s.audioLevel ?? 0) > level) {
          level = s.audioLevel ?? 0;
          loudest = id;
        }
      }
    }
    const confirmed = loudest !== '' && loudest === this.loudest;
    this.loudest = loudest;
    const current = [...owner.values()].includes(this.speaker) ? this.speaker : '';
    const next = confirmed ? loudest : current;
    if (next === this.speaker) return;
    this.speaker = next;
    this.render();
  }
  /** Asks for the simulcast layer each received camera's tile needs: no more. */
  updateLayers() {
    if (this.room.state !== 'joined') return;
    /** @type {Set<string>} */
    const seen = new Set();
    for (const tile of this.tiles.values()) {
      if (!tile.remote || !tile.trackId || !tile.node.classList.contains('room-tile-camera')) continue;
      const px = tile.node.clientWidth * (window.devicePixelRatio || 1);
      if (px === 0) continue; // not laid out: keep what was asked
      const layer = px <= LOW_UP_TO_PX ? 0 : px <= MEDIUM_UP_TO_PX ? 1 : 2;
      const key = `${tile.participantId}:${tile.trackId}`;
      seen.add(key);
      if (this.layers.get(key) === layer) continue;
      this.layers.set(key, layer);
      this.room.setMaxLayer(tile.participantId, tile.trackId, layer).catch(() => this.layers.delete(key));
    }
    for (const key of this.layers.keys()) if (!seen.has(key)) this.layers.delete(key);
  }

  /**
   * One tile: a participant's camera, or one of their screens.
   * @param {string} key
   * @param {RoomParticipant} p
   * @param {RoomTrack | null} video
   * @param {RoomTrack | null} mic
   * @param {'camera' | 'screen'} kind
   * @param {HTMLElement} parent
   */
  renderTile(key, p, video, mic, kind, parent) {
    let tile = this.tiles.get(key);
    if (!tile) {
      const v = el('video', { class: 'room-video', playsinline: true, autoplay: true });
      v.muted = true; // sound plays from the audio elements
      const avatar = el('div', { class: 'room-avatar', 'aria-hidden': 'true' });
      const name = el('span', { class: 'room-name' });
      const muted = el('span', { class: 'room-muted', hidden: true }, 'Muted');
      const unmute = this.each && !p.local && kind === 'camera'
        ? /** @type {HTMLButtonElement} */ (el('button', { class: 'room-button room-unmute room-tile-unmute', type: 'button', hidden: true }))
        : null;
      unmute?.addEventListener('click', () => this.release(p.id));
      const node = el(
        'figure',
        { class: `room-tile room-tile-${kind}`, 'data-participant': p.id, 'data-source': kind, 'data-local': p.local ? 'true' : null },
        v,
        avatar,
        el('figcaption', { class: 'room-caption' }, name, muted),
        unmute,
      );
      tile = { node, video: v, avatar, name, muted, unmute, shown: null, participantId: p.id, trackId: '', remote: !p.local };
      this.tiles.set(key, tile);
    }
    if (tile.unmute) setText(tile.unmute, `Unmute ${p.name || 'participant'}`);
    if (tile.node.parentElement !== parent) parent.append(tile.node);
    const who = p.local ? this.you : p.name || 'Someone';
    setText(tile.name, kind === 'screen' ? (p.local ? 'Your screen' : `${who} · screen`) : who);
    setText(tile.avatar, initial(p.local ? this.room.local.name || this.you : p.name));
    tile.node.setAttribute('aria-label', tile.name.textContent ?? '');
    const track = video && !video.muted && video.track && video.track.readyState === 'live' ? video.track : null;
    if (tile.shown !== track) {
      tile.shown = track;
      tile.video.srcObject = track ? new MediaStream([track]) : null;
      if (track) tile.video.play().catch(() => {}); // muted: allowed; a detached element may refuse
    }
    tile.node.dataset.video = track ? 'on' : 'off';
    tile.trackId = video?.id ?? '';
    tile.muted.hidden = !(mic && mic.muted);
    tile.node.dataset.mic = mic ? (mic.muted ? 'off' : 'on') : 'none';
  }

  /**
   * One remote sound, played from an audio element.
   * @param {string} key
   * @param {MediaStreamTrack} track
   * @param {string} participantId
   */
  renderSound(key, track, participantId) {
    let audio = this.sounds.get(key);
    if (audio && audio.srcObject instanceof MediaStream && audio.srcObject.getTracks()[0] === track) return;
    if (!audio) {
      audio = el('audio', { class: 'room-sound', autoplay: true, 'data-key': key, 'data-participant': participantId });
      this.sounds.set(key, audio);
      this.audio.append(audio);
    }
    audio.muted = this.each ? !this.released.has(participantId) : this.held;
    audio.srcObject = new MediaStream([track]);
    this.play(audio);
  }

  /** @param {HTMLAudioElement} audio */
  play(audio) {
    audio.play().catch((err) => {
      if (err instanceof DOMException && err.name === 'NotAllowedError' && !audio.muted) {
        this.blocked = true;
        this.render();
      }
    });
  }

  /**
   * The person lets one participant's sound play (unmuteEach).
   * @param {string} participantId
   */
  release(participantId) {
    this.released.add(participantId);
    for (const audio of this.sounds.values()) {
      if (audio.dataset.participant !== participantId) continue;
      audio.muted = false;
      this.play(audio);
    }
    this.render();
  }

  // --------------------------------------------------------------- wire

  wire() {
    this.layoutButton.addEventListener('click', () => {
      this.speakerView = !this.speakerView;
      this.render();
    });
    this.unmute.addEventListener('click', () => {
      this.held = false;
      this.blocked = false;
      for (const p of this.room.remote.keys()) this.released.add(p);
      for (const audio of this.sounds.values()) {
        audio.muted = false;
        this.play(audio);
      }
      this.render();
    });
    this.cameraButton.addEventListener('click', () => this.act(() => this.room.setCamera(!this.room.cameraOn)));
    this.micButton.addEventListener('click', () => this.act(() => this.room.setMicrophone(!this.room.microphoneOn)));
    this.screenButton.addEventListener('click', () => this.act(() => (this.room.sharing ? this.room.stopScreen() : this.room.startScreen())));
    this.leaveButton.addEventListener('click', () => {
      this.leaveButton.disabled = true;
      void this.room.leave();
    });
  }

  /**
   * Runs a control's action, the controls disabled meanwhile.
   * @param {() => Promise<unknown>} action
   */
  act(action) {
    if (this.busy) return;
    this.busy = true;
    this.error.hidden = true;
    this.render();
    action()
      .catch((err) => this.showError(err instanceof Error ? err.message : String(err)))
      .finally(() => {
        this.busy = false;
        this.render();
      });
  }
}

/**
 * A participant's track of a source, if any.
 * @param {RoomParticipant} p
 * @param {import('./room.js').Source} source
 */
function pick(p, source) {
  for (const t of p.tracks.values()) if (t.source === source) return t;
  return null;
}

/** @param {string} name */
function initial(name) {
  const c = name.trim().charAt(0);
  return c ? c.toUpperCase() : '?';
}
