// @ts-check
// Voice messages: the microphone button records (MediaRecorder, Opus in
// WebM or Ogg, whichever the browser makes), with a running timer, Cancel
// and Send; the recording is uploaded as an audio file (lib/files.js) and
// sent as a message of its own, which plays inline on both sides.

import { el, setText } from '../lib/dom.js';
import { Attachments } from '../lib/files.js';

/** The containers tried, best first. */
const TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm'];

/**
 * Adds the microphone button to the compose form.
 * @param {HTMLFormElement} form
 * @param {object} opts
 * @param {() => number | null} opts.conversation the open chat, or null
 * @param {() => string | null} opts.token
 * @param {() => number} opts.maxBytes
 * @param {(files: import('../lib/files.js').FileRef[]) => void} opts.send sends a message with the recording
 */
export function voiceRecorder(form, opts) {
  if (typeof MediaRecorder === 'undefined' || !navigator.mediaDevices?.getUserMedia) return;
  const mic = el('button', { type: 'button', class: 'voice-button', 'aria-label': 'Record a voice message', title: 'Record a voice message' }, '🎤');
  const timer = el('span', { class: 'voice-timer', role: 'timer', 'aria-live': 'off' }, '0:00');
  const cancel = el('button', { type: 'button', class: 'voice-cancel' }, 'Cancel');
  const stop = el('button', { type: 'button', class: 'voice-send' }, 'Send voice message');
  const status = el('p', { class: 'voice-status', role: 'status' });
  const bar = el('div', { class: 'voice-bar', role: 'group', 'aria-label': 'Recording a voice message', hidden: true }, el('span', { class: 'voice-dot', 'aria-hidden': 'true' }), 'Recording', timer, cancel, stop);
  const uploads = new Attachments({
    conversation: opts.conversation,
    token: opts.token,
    maxBytes: opts.maxBytes,
    changed: () => {
      const refs = uploads.refs();
      if (uploads.items.length > 0 && refs.length === uploads.items.length) {
        uploads.clear();
        setText(status, '');
        opts.send(refs);
      }
    },
  });
  form.before(bar, uploads.list, status);
  form.prepend(mic);

  /** @type {MediaRecorder | null} */
  let recorder = null;
  /** @type {Blob[]} */
  let chunks = [];
  let started = 0;
  /** @type {ReturnType<typeof setInterval> | null} */
  let tick = null;
  let keep = false;

  const end = () => {
    if (tick !== null) clearInterval(tick);
    tick = null;
    bar.hidden = true;
    mic.hidden = false;
    recorder?.stream.getTracks().forEach((t) => t.stop());
  };

  mic.addEventListener('click', async () => {
    if (recorder?.state === 'recording' || opts.conversation() === null) return;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      setText(status, 'The microphone is not available: allow it in the browser to record.');
      return;
    }
    const mimeType = TYPES.find((t) => MediaRecorder.isTypeSupported(t));
    recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
    chunks = [];
    keep = false;
    recorder.addEventListener('dataavailable', (e) => e.data.size > 0 && chunks.push(e.data));
    recorder.addEventListener('stop', () => {
      end();
      if (!keep) return;
      const type = recorder?.mimeType || 'audio/webm';
      const blob = new Blob(chunks, { type });
      const ext = type.includes('ogg') ? 'ogg' : 'webm';
      setText(status, 'Sending the voice message…');
      uploads.addOne(blob, `voice-message.${ext}`);
    });
    recorder.start(250);
    started = Date.now();
    setText(timer, '0:00');
    tick = setInterval(() => {
      const s = Math.floor((Date.now() - started) / 1000);
      setText(timer, `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`);
    }, 250);
    bar.hidden = false;
    mic.hidden = true;
    stop.focus();
  });
  cancel.addEventListener('click', () => {
    keep = false;
    recorder?.stop();
    setText(status, 'Voice message discarded.');
  });
  stop.addEventListener('click', () => {
    keep = true;
    recorder?.stop();
  });
}
