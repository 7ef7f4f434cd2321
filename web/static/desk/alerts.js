// @ts-check
// How the desk gets an agent's attention: a short tone (WebAudio, no audio
// files) that can be switched off and stays so (localStorage), and system
// notifications when the browser already allows them (the desk never asks
// on its own).

import { storageOf } from '../lib/util.js';

const SOUND_KEY = 'parley.desk.sound';

/** @typedef {'offer' | 'message'} Tone */

/** Notes of each tone: [frequency Hz, start s, length s]. @type {Record<Tone, [number, number, number][]>} */
const TONES = {
  offer: [
    [660, 0, 0.14],
    [880, 0.16, 0.2],
  ],
  message: [[740, 0, 0.12]],
};

export class Alerts {
  /** @param {HTMLButtonElement} toggle the "Sound" on/off button */
  constructor(toggle) {
    this.toggle = toggle;
    this.store = storageOf('localStorage');
    this.enabled = this.store.get(SOUND_KEY) !== 'off';
    /** @type {AudioContext | null} */
    this.audio = null;
    /** tones played so far (shown on the toggle as data-played, for tests and curious people) */
    this.played = 0;
    this.render();
    toggle.addEventListener('click', () => {
      this.enabled = !this.enabled;
      this.store.set(SOUND_KEY, this.enabled ? 'on' : 'off');
      this.render();
      if (this.enabled) this.play('message'); // so one hears what it sounds like
    });
    // Browsers let audio start only after a gesture on the page: the first
    // click or key press wakes the AudioContext up.
    const wake = () => {
      this.context();
      window.removeEventListener('pointerdown', wake, true);
      window.removeEventListener('keydown', wake, true);
    };
    window.addEventListener('pointerdown', wake, true);
    window.addEventListener('keydown', wake, true);
  }

  render() {
    this.toggle.setAttribute('aria-pressed', String(this.enabled));
    this.toggle.textContent = this.enabled ? 'Sound on' : 'Sound off';
    this.toggle.title = this.enabled ? 'New offers and messages play a sound. Click to mute.' : 'Sounds are muted. Click to turn them on.';
  }

  /**
   * The AudioContext, made and resumed on demand; null where there is none.
   * @returns {AudioContext | null}
   */
  context() {
    try {
      if (!this.audio) {
        const Ctor = window.AudioContext ?? /** @type {any} */ (window).webkitAudioContext;
        if (!Ctor) return null;
        this.audio = /** @type {AudioContext} */ (new Ctor());
      }
      if (this.audio.state === 'suspended') this.audio.resume().catch(() => {});
      return this.audio;
    } catch {
      return null;
    }
  }

  /**
   * Plays a tone, when sound is on and the browser allows it. Never throws.
   * @param {Tone} tone
   */
  play(tone) {
    if (!this.enabled) return;
    try {
      const ctx = this.context();
      // Not allowed yet (no gesture on the page): a tone scheduled now
      // would play late, when it no longer means anything.
      if (!ctx || ctx.state !== 'running') return;
      const t0 = ctx.currentTime + 0.01;
      for (const [freq, start, length] of TONES[tone]) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = 'sine';
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, t0 + start);
        gain.gain.exponentialRampToValueAtTime(0.18, t0 + start + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t0 + start + length);
        osc.connect(gain).connect(ctx.destination);
        osc.start(t0 + start);
        osc.stop(t0 + start + length + 0.02);
      }
      this.played++;
      this.toggle.dataset.played = String(this.played);
    } catch {
      // a tone is a courtesy: never let it break the desk
    }
  }

  /**
   * A system notification, only when the page is not in view and the
   * browser already allows them. Clicking it brings the desk forward.
   * @param {string} title
   * @param {string} body
   * @param {string} tag one notification per thing
   */
  notify(title, body, tag) {
    try {
      if (!('Notification' in window) || Notification.permission !== 'granted') return;
      if (document.visibilityState === 'visible' && document.hasFocus()) return;
      const n = new Notification(title, { body, tag });
      n.onclick = () => {
        window.focus();
        n.close();
      };
    } catch {
      // some browsers allow notifications only from a service worker
    }
  }
}
