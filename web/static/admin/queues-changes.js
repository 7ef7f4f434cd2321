// @ts-check
// The Queues tab's change log: GET /api/admin/queues/{key}/changes, newest
// first, a page at a time ("Older changes"): who, when, and each setting
// from what to what, with the members added and removed.

import { el, setText } from '../lib/dom.js';
import { errorText } from '../lib/util.js';
import { api } from './api.js';

/**
 * @typedef {{field: string, old: unknown, new: unknown}} FieldChange
 * @typedef {{id: number, at: string, by: {id: number, name: string}, created: boolean, fields: FieldChange[], members_added: string[], members_removed: string[]}} Change
 */

const PAGE = 20;

export class ChangeLog {
  constructor() {
    this.body = el('tbody');
    this.status = el('p', { class: 'qf-hint', role: 'status', 'aria-live': 'polite' });
    this.more = el('button', { type: 'button', class: 'button qf-small', hidden: true }, 'Older changes');
    this.table = el(
      'table',
      { class: 'qc-table', id: 'q-changes' },
      el('caption', { class: 'visually-hidden' }, 'Change log'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'When'), el('th', { scope: 'col' }, 'Who'), el('th', { scope: 'col' }, 'What changed'))),
      this.body,
    );
    this.root = el('div', { class: 'qc' }, this.table, this.status, this.more);
    this.key = '';
    this.next = 0;
    this.more.addEventListener('click', () => void this.load(false));
  }

  /**
   * Shows queue key's log from its newest entry.
   * @param {string} key
   */
  async show(key) {
    this.key = key;
    await this.load(true);
  }

  /** @param {boolean} fresh */
  async load(fresh) {
    const key = this.key;
    const before = fresh ? '' : `&before=${this.next}`;
    try {
      const page = /** @type {{changes: Change[], next: number}} */ (
        await api('GET', `/api/admin/queues/${encodeURIComponent(key)}/changes?limit=${PAGE}${before}`)
      );
      if (key !== this.key) return;
      if (fresh) this.body.replaceChildren();
      for (const c of page.changes) this.body.append(row(c));
      this.next = page.next;
      this.more.hidden = !page.next;
      setText(this.status, this.body.children.length === 0 ? 'No changes recorded yet.' : '');
    } catch (err) {
      setText(this.status, `The change log could not be read: ${errorText(err)}`);
    }
  }
}

/** @param {Change} c */
function row(c) {
  const at = new Date(c.at);
  /** @type {HTMLElement[]} */
  const items = [];
  if (c.created) items.push(el('li', {}, 'Created the queue'));
  if (c.members_added.length) items.push(el('li', {}, `Members added: ${c.members_added.join(', ')}`));
  if (c.members_removed.length) items.push(el('li', {}, `Members removed: ${c.members_removed.join(', ')}`));
  const fields = c.fields.map((f) =>
    el('li', { 'data-field': f.field }, el('code', {}, f.field), ': ', c.created ? shown(f.new) : `${shown(f.old)} → ${shown(f.new)}`),
  );
  /** @type {HTMLElement} */
  let what;
  if (c.created) {
    what = el('div', {}, el('ul', { class: 'qc-items' }, ...items), el('details', {}, el('summary', {}, 'Settings'), el('ul', { class: 'qc-items' }, ...fields)));
  } else {
    what = el('ul', { class: 'qc-items' }, ...items, ...fields);
  }
  return el(
    'tr',
    { 'data-id': c.id },
    el('td', {}, el('time', { datetime: c.at }, at.toLocaleString())),
    el('td', { class: 'qc-who' }, c.by.name),
    el('td', {}, what),
  );
}

/**
 * A setting's value as text: strings quoted, hours as "mon 09:00–17:00", lists joined.
 * @param {unknown} v
 * @returns {string}
 */
function shown(v) {
  if (v === null || v === undefined) return 'none';
  if (typeof v === 'string') return v === '' ? '(empty)' : `“${v}”`;
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (Array.isArray(v)) {
    if (v.length === 0) return '(none)';
    return v.map((x) => (x && typeof x === 'object' && 'date' in x ? `${x.date} ${x.name}` : shown(x))).join(', ');
  }
  if (typeof v === 'object') {
    const days = Object.entries(/** @type {Record<string, {from: string, to: string}[]>} */ (v));
    if (days.length === 0) return 'closed every day';
    return days.map(([d, spans]) => `${d} ${spans.map((s) => `${s.from}–${s.to}`).join(', ')}`).join('; ');
  }
  return String(v);
}
