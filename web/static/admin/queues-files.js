// @ts-check
// The Queues tab's Files section: the largest file a message may carry
// (file_max_bytes, shown in MiB) and the kinds of file the queue takes
// (file_types), judged by content on the server (docs/protocol.md,
// "Files (HTTP)").

import { el } from '../lib/dom.js';

const MIB = 1024 * 1024;

/** The kinds of file, as the server names them, with their labels. */
export const FILE_TYPES = /** @type {const} */ ([
  ['images', 'Images'],
  ['pdf', 'PDF'],
  ['text', 'Text'],
  ['office', 'Office documents'],
  ['audio', 'Audio (voice messages too)'],
  ['video', 'Video'],
]);

export class FilesEditor {
  /** @param {() => void} changed */
  constructor(changed) {
    this.max = /** @type {HTMLInputElement} */ (el('input', { type: 'number', id: 'q-file_max_bytes', min: 0.001, max: 100, step: 'any' }));
    this.max.addEventListener('input', changed);
    /** @type {Map<string, HTMLInputElement>} */
    this.boxes = new Map();
    this.types = el(
      'div',
      { class: 'qf-inline', id: 'q-file_types' },
      ...FILE_TYPES.map(([value, label]) => {
        const box = /** @type {HTMLInputElement} */ (el('input', { type: 'checkbox', value, id: `q-file_types-${value}` }));
        box.addEventListener('change', changed);
        this.boxes.set(value, box);
        return el('label', { class: 'qf-check' }, box, ' ', label);
      }),
    );
  }

  /** @param {{file_max_bytes?: number, file_types?: string[]}} q */
  set(q) {
    const bytes = q.file_max_bytes || 20 * MIB;
    this.max.value = String(Math.round((bytes / MIB) * 1000) / 1000);
    const types = q.file_types ?? FILE_TYPES.map(([v]) => v);
    for (const [v, box] of this.boxes) box.checked = types.includes(v);
  }

  /** @param {any} q the settings to fill in */
  fill(q) {
    const mb = this.max.value.trim() === '' ? 0 : Number(this.max.value);
    q.file_max_bytes = Math.round(mb * MIB);
    q.file_types = [...this.boxes].filter(([, box]) => box.checked).map(([v]) => v);
  }

  /** @returns {HTMLElement} */
  firstType() {
    return /** @type {HTMLElement} */ (this.boxes.get('images'));
  }
}
