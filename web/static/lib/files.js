// @ts-check
// Files in messages, shared by the desk and the widget (docs/protocol.md,
// "Files (HTTP)"): a message's files as thumbnails (raster images), audio
// players (voice messages) or cards with name, size and Download; and the
// compose area's attachments, each uploaded at once with a progress bar
// and its error shown at the file. Files are fetched with the reader's own
// credential (cookie or bearer token) into blob: URLs, so no link works
// outside the reader's session.

import { el, setText } from './dom.js';

/**
 * A file as a message's event carries it.
 * @typedef {object} FileRef
 * @property {number} id
 * @property {string} name
 * @property {number} size
 * @property {string} type the type sniffed by the server
 * @property {boolean} image a raster image, shown inline
 */

/** @typedef {(id: number) => Promise<Blob>} Fetcher */

/** How many files one message may carry. */
export const MAX_FILES = 5;

/**
 * A size for people: 512 B, 14 KB, 2.4 MB.
 * @param {number} n bytes
 */
export function humanSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * A fetcher with a bearer token (the widget's visitor token), or with the
 * session cookie when token gives none (the desk).
 * @param {() => string | null} token
 * @returns {Fetcher}
 */
export function fileFetcher(token) {
  return async (id) => {
    const t = token();
    const res = await fetch(`/api/files/${id}`, { credentials: 'same-origin', headers: t ? { Authorization: `Bearer ${t}` } : {} });
    if (!res.ok) throw new Error(res.status === 404 ? 'This file is not available.' : `The file could not be fetched (${res.status}).`);
    return res.blob();
  };
}

/** @param {FileRef} f */
function playable(f) {
  return f.type.startsWith('audio/') || f.type === 'video/webm' || f.type === 'application/ogg';
}

/**
 * A message's files, to put below its text.
 * @param {FileRef[] | undefined} files
 * @param {Fetcher} fetcher
 * @returns {HTMLElement | null}
 */
export function renderFiles(files, fetcher) {
  if (!files || files.length === 0) return null;
  return el('ul', { class: 'msg-files', 'aria-label': 'Files' }, ...files.map((f) => renderFile(f, fetcher)));
}

/**
 * @param {FileRef} f
 * @param {Fetcher} fetcher
 */
function renderFile(f, fetcher) {
  const status = el('span', { class: 'file-status', role: 'status' });
  /** @type {Promise<string> | null} */
  let url = null;
  const blobURL = () => (url ??= fetcher(f.id).then((b) => URL.createObjectURL(b)));
  const download = el('button', { type: 'button', class: 'file-download', 'aria-label': `Download ${f.name}` }, 'Download');
  download.addEventListener('click', () => {
    blobURL()
      .then((href) => {
        const a = el('a', { href, download: f.name, hidden: true });
        document.body.append(a);
        a.click();
        a.remove();
      })
      .catch((err) => setText(status, err.message));
  });
  const card = el(
    'span',
    { class: 'file-card' },
    el('span', { class: 'file-name' }, f.name),
    el('span', { class: 'file-size' }, humanSize(f.size)),
    download,
    status,
  );
  const li = el('li', { class: 'msg-file', 'data-file-id': f.id });
  if (f.image) {
    const img = /** @type {HTMLImageElement} */ (el('img', { class: 'file-thumb', alt: f.name }));
    blobURL()
      .then((src) => (img.src = src))
      .catch((err) => setText(status, err.message));
    li.append(img);
  } else if (playable(f)) {
    const audio = /** @type {HTMLAudioElement} */ (el('audio', { class: 'file-audio', controls: true, preload: 'metadata', 'aria-label': f.name }));
    blobURL()
      .then((src) => (audio.src = src))
      .catch((err) => setText(status, err.message));
    li.append(audio);
  }
  li.append(card);
  return li;
}

/**
 * One file being attached.
 * @typedef {object} Attachment
 * @property {File | Blob} file
 * @property {string} name
 * @property {FileRef | null} ref the stored file, once uploaded
 * @property {string} error
 * @property {XMLHttpRequest | null} xhr
 * @property {HTMLElement} node
 */

/**
 * The compose area's attachments: each file is uploaded as soon as it is
 * added, with a progress bar; a refusal is shown at the file. The message
 * may go only once every file is uploaded (ready).
 */
export class Attachments {
  /**
   * @param {object} opts
   * @param {() => number | null} opts.conversation the conversation to upload into
   * @param {() => string | null} opts.token a bearer token, or null for the cookie
   * @param {() => number} [opts.maxBytes] the queue's file_max_bytes when known (checked before uploading)
   * @param {() => void} [opts.changed]
   */
  constructor(opts) {
    this.opts = opts;
    /** @type {Attachment[]} */
    this.items = [];
    this.list = el('ul', { class: 'attachments', 'aria-label': 'Attached files', hidden: true });
  }

  /** @param {Iterable<File | Blob>} files */
  add(files) {
    for (const file of files) {
      const name = file instanceof File ? file.name : 'file';
      this.addOne(file, name);
    }
  }

  /**
   * @param {File | Blob} file
   * @param {string} name
   */
  addOne(file, name) {
    const progress = /** @type {HTMLProgressElement} */ (el('progress', { class: 'attachment-progress', max: 100, value: 0, 'aria-label': `Uploading ${name}` }));
    const error = el('p', { class: 'attachment-error', role: 'alert', hidden: true });
    const remove = el('button', { type: 'button', class: 'attachment-remove', 'aria-label': `Remove ${name}` }, '×');
    const node = el(
      'li',
      { class: 'attachment', 'data-name': name },
      el('span', { class: 'file-name' }, name),
      el('span', { class: 'file-size' }, humanSize(file.size)),
      progress,
      remove,
      error,
    );
    /** @type {Attachment} */
    const a = { file, name, ref: null, error: '', xhr: null, node };
    remove.addEventListener('click', () => {
      a.xhr?.abort();
      this.items = this.items.filter((x) => x !== a);
      node.remove();
      this.render();
    });
    this.items.push(a);
    this.list.append(node);
    this.render();
    const max = this.opts.maxBytes?.() ?? 0;
    if (this.items.length > MAX_FILES) {
      this.fail(a, `At most ${MAX_FILES} files per message: remove one.`);
    } else if (max > 0 && file.size > max) {
      this.fail(a, `${humanSize(file.size)} is too big: this chat takes files up to ${humanSize(max)}.`);
    } else if (file.size === 0) {
      this.fail(a, 'The file is empty.');
    } else {
      this.upload(a, progress);
    }
  }

  /**
   * @param {Attachment} a
   * @param {HTMLProgressElement} progress
   */
  upload(a, progress) {
    const conv = this.opts.conversation();
    if (conv === null) return this.fail(a, 'There is no chat to attach it to.');
    const xhr = new XMLHttpRequest();
    a.xhr = xhr;
    xhr.open('POST', `/api/conversations/${conv}/files?name=${encodeURIComponent(a.name)}`);
    const token = this.opts.token();
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) progress.value = Math.round((e.loaded / e.total) * 100);
    });
    xhr.addEventListener('load', () => {
      a.xhr = null;
      /** @type {any} */
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 201 && body?.file) {
        a.ref = body.file;
        progress.value = 100;
        a.node.classList.add('uploaded');
        progress.setAttribute('aria-label', `${a.name} uploaded`);
        this.render();
        return;
      }
      const msg = body?.error?.message ?? `The upload failed (${xhr.status}).`;
      this.fail(a, msg.replace(/^file:\s*/, ''));
    });
    xhr.addEventListener('error', () => {
      a.xhr = null;
      this.fail(a, 'The upload was cut off: remove the file and try again.');
    });
    xhr.send(a.file);
    this.render();
  }

  /**
   * @param {Attachment} a
   * @param {string} why
   */
  fail(a, why) {
    a.error = why;
    a.node.classList.add('failed');
    a.node.querySelector('progress')?.remove();
    const p = /** @type {HTMLElement} */ (a.node.querySelector('.attachment-error'));
    setText(p, why);
    p.hidden = false;
    this.render();
  }

  render() {
    this.list.hidden = this.items.length === 0;
    this.opts.changed?.();
  }

  /** Why the message cannot go yet, or '' when it can. */
  blocked() {
    if (this.items.some((a) => a.error)) return 'Remove the files that could not be attached first.';
    if (this.items.some((a) => !a.ref)) return 'Wait until the files are uploaded.';
    return '';
  }

  /** @returns {FileRef[]} the uploaded files, in order */
  refs() {
    return this.items.flatMap((a) => (a.ref ? [a.ref] : []));
  }

  /** Forgets every file (after sending, or when the chat changes). */
  clear() {
    for (const a of this.items) a.xhr?.abort();
    this.items = [];
    this.list.replaceChildren();
    this.render();
  }
}

/**
 * Makes node a drop target for files (and a picker button open a file
 * input), both adding to attachments.
 * @param {HTMLElement} node the compose area
 * @param {Attachments} attachments
 * @param {() => boolean} [enabled]
 * @returns {HTMLElement} the picker button, with its hidden input, to place in the compose bar
 */
export function filePicker(node, attachments, enabled = () => true) {
  const input = /** @type {HTMLInputElement} */ (el('input', { type: 'file', multiple: true, hidden: true, class: 'file-input', 'aria-hidden': 'true', tabindex: -1 }));
  const button = el('button', { type: 'button', class: 'attach-button', 'aria-label': 'Attach files', title: 'Attach files' }, '📎');
  button.addEventListener('click', () => enabled() && input.click());
  input.addEventListener('change', () => {
    if (input.files) attachments.add(input.files);
    input.value = '';
  });
  node.addEventListener('dragover', (e) => {
    if (!enabled() || !e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    node.classList.add('dropping');
  });
  node.addEventListener('dragleave', () => node.classList.remove('dropping'));
  node.addEventListener('drop', (e) => {
    node.classList.remove('dropping');
    if (!enabled() || !e.dataTransfer?.files.length) return;
    e.preventDefault();
    attachments.add(e.dataTransfer.files);
  });
  return el('span', { class: 'attach' }, button, input);
}
