// @ts-check
// The Queues tab's opening hours: the weekly grid (per weekday its
// from–to spans, or Closed; "Always open" is hours null), the holidays,
// and whether a queue is open at a moment, as the server counts it
// (chat/queues: hours in the queue's time zone, holidays closed all day,
// a disabled queue closed).

import { el } from '../lib/dom.js';

/**
 * @typedef {{from: string, to: string}} Span
 * @typedef {Record<string, Span[]>} Hours
 * @typedef {{date: string, name: string}} Holiday
 */

/** Hours' keys, Monday first, with the names shown. */
export const DAYS = /** @type {const} */ ([
  ['mon', 'Monday'],
  ['tue', 'Tuesday'],
  ['wed', 'Wednesday'],
  ['thu', 'Thursday'],
  ['fri', 'Friday'],
  ['sat', 'Saturday'],
  ['sun', 'Sunday'],
]);

/** The IANA time zones the browser knows, UTC first. */
export function timeZones() {
  /** @type {string[]} */
  let zones = [];
  try {
    zones = Intl.supportedValuesOf('timeZone');
  } catch {
    zones = [];
  }
  return ['UTC', ...zones.filter((z) => z !== 'UTC')];
}

/**
 * Whether a queue is open at when: enabled, not on a holiday, and within
 * its hours (hours null: always) in its time zone.
 * @param {{disabled: boolean, time_zone: string, hours: Hours | null, holidays: Holiday[]}} q
 * @param {Date} [when]
 */
export function openAt(q, when = new Date()) {
  if (q.disabled) return false;
  /** @type {Record<string, string>} */
  const parts = {};
  try {
    const f = new Intl.DateTimeFormat('en-US', {
      timeZone: q.time_zone || 'UTC',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    for (const p of f.formatToParts(when)) parts[p.type] = p.value;
  } catch {
    return false; // an unknown zone: the server refuses it anyway
  }
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  if ((q.holidays ?? []).some((h) => h.date === date)) return false;
  if (!q.hours) return true;
  const day = parts.weekday.slice(0, 3).toLowerCase();
  const now = Number(parts.hour) * 60 + Number(parts.minute);
  return (q.hours[day] ?? []).some((s) => minutes(s.from) <= now && now < minutes(s.to));
}

/** @param {string} hm "HH:MM" */
function minutes(hm) {
  const m = /^(\d\d):(\d\d)$/.exec(hm);
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
}

/**
 * The hours editor: "Always open", then per weekday its spans (each from
 * and to, "HH:MM"; 24:00 is the day's end) with Add and Remove; a day
 * without spans is Closed.
 */
export class HoursEditor {
  /**
   * @param {() => void} changed told after every edit
   */
  constructor(changed) {
    this.changed = changed;
    /** @type {Hours | null} */
    this.hours = null;
    /** the spans kept while "Always open" is on, so turning it off again restores them */
    /** @type {Hours} */
    this.kept = {};
    this.always = /** @type {HTMLInputElement} */ (el('input', { type: 'checkbox', id: 'q-always-open' }));
    this.grid = el('div', { class: 'qh-grid', role: 'group', 'aria-label': 'Weekly hours' });
    this.root = el(
      'div',
      { class: 'qh' },
      el('label', { class: 'qf-check' }, this.always, ' Always open (no opening hours)'),
      this.grid,
    );
    this.always.addEventListener('change', () => {
      if (this.always.checked) {
        this.kept = this.hours ?? {};
        this.hours = null;
      } else {
        this.hours = Object.keys(this.kept).length ? this.kept : weekdays9to5();
      }
      this.render();
      this.changed();
    });
  }

  /** @param {Hours | null} hours */
  set(hours) {
    this.hours = hours ? structuredClone(hours) : null;
    this.kept = {};
    this.render();
  }

  /** @returns {Hours | null} */
  value() {
    if (!this.hours) return null;
    /** @type {Hours} */
    const out = {};
    for (const [day] of DAYS) if (this.hours[day]?.length) out[day] = this.hours[day].map((s) => ({ ...s }));
    return out;
  }

  /**
   * The first input of a weekday's row (for an error about that day), or of the grid.
   * @param {string} [day]
   * @returns {HTMLElement}
   */
  focusTarget(day) {
    const row = day ? this.grid.querySelector(`[data-day="${day}"]`) : null;
    return /** @type {HTMLElement} */ ((row ?? this.root).querySelector('input, button') ?? this.always);
  }

  render() {
    this.always.checked = this.hours === null;
    this.grid.hidden = this.hours === null;
    const hours = this.hours;
    if (!hours) {
      this.grid.replaceChildren();
      return;
    }
    this.grid.replaceChildren(
      ...DAYS.map(([day, name]) => {
        const spans = hours[day] ?? [];
        const add = el('button', { type: 'button', class: 'button button-quiet qf-small' }, 'Add hours');
        add.setAttribute('aria-label', `Add hours on ${name}`);
        add.addEventListener('click', () => {
          const last = spans[spans.length - 1];
          hours[day] = [...spans, last ? { from: last.to === '24:00' ? '23:00' : last.to, to: '24:00' } : { from: '09:00', to: '17:00' }];
          this.render();
          this.changed();
          /** @type {HTMLInputElement | null} */ (this.grid.querySelector(`[data-day="${day}"] .qh-span:last-of-type input`))?.focus();
        });
        return el(
          'div',
          { class: 'qh-day', 'data-day': day, role: 'group', 'aria-label': name },
          el('span', { class: 'qh-day-name' }, name),
          el(
            'div',
            { class: 'qh-spans' },
            spans.length === 0 ? el('span', { class: 'qh-closed' }, 'Closed') : null,
            ...spans.map((span, i) => this.spanRow(day, name, spans, span, i)),
          ),
          add,
        );
      }),
    );
  }

  /**
   * @param {string} day
   * @param {string} name
   * @param {Span[]} spans
   * @param {Span} span
   * @param {number} i
   */
  spanRow(day, name, spans, span, i) {
    const n = spans.length > 1 ? ` ${i + 1}` : '';
    /** @param {'from' | 'to'} which */
    const time = (which) => {
      const input = /** @type {HTMLInputElement} */ (
        el('input', {
          type: 'text',
          class: 'qh-time',
          inputmode: 'numeric',
          maxlength: 5,
          placeholder: which === 'from' ? '09:00' : '17:00',
          'aria-label': `${name}${n} ${which === 'from' ? 'from' : 'to'}`,
          value: span[which],
        })
      );
      input.addEventListener('input', () => {
        span[which] = input.value.trim();
        this.changed();
      });
      return input;
    };
    const remove = el('button', { type: 'button', class: 'button button-quiet qf-small', 'aria-label': `Remove ${name}${n} hours` }, 'Remove');
    remove.addEventListener('click', () => {
      spans.splice(i, 1);
      this.render();
      this.changed();
    });
    return el('span', { class: 'qh-span' }, time('from'), el('span', { 'aria-hidden': 'true' }, '–'), time('to'), remove);
  }
}

/** @returns {Hours} */
function weekdays9to5() {
  /** @type {Hours} */
  const h = {};
  for (const [day] of DAYS.slice(0, 5)) h[day] = [{ from: '09:00', to: '17:00' }];
  return h;
}

/**
 * The holidays editor: rows of a date and a name, with Add and Remove.
 */
export class HolidaysEditor {
  /** @param {() => void} changed */
  constructor(changed) {
    this.changed = changed;
    /** @type {Holiday[]} */
    this.list = [];
    this.rows = el('ul', { class: 'qf-list', 'aria-label': 'Holidays' });
    const add = el('button', { type: 'button', class: 'button qf-small' }, 'Add holiday');
    add.addEventListener('click', () => {
      this.list.push({ date: '', name: '' });
      this.render();
      this.changed();
      /** @type {HTMLInputElement | null} */ (this.rows.querySelector('li:last-child input'))?.focus();
    });
    this.root = el('div', { class: 'qf-listed' }, this.rows, add);
  }

  /** @param {Holiday[]} list */
  set(list) {
    this.list = (list ?? []).map((h) => ({ ...h }));
    this.render();
  }

  /** @returns {Holiday[]} */
  value() {
    return this.list.map((h) => ({ ...h }));
  }

  /**
   * The row of a date named in an error, or the first.
   * @param {string} [date]
   * @returns {HTMLElement}
   */
  focusTarget(date) {
    const i = date ? this.list.findIndex((h) => h.date === date) : -1;
    const row = this.rows.children[Math.max(i, 0)];
    return /** @type {HTMLElement} */ (row?.querySelector('input') ?? this.root.querySelector('button'));
  }

  render() {
    this.rows.replaceChildren(
      ...this.list.map((h, i) => {
        const date = /** @type {HTMLInputElement} */ (el('input', { type: 'date', value: h.date, 'aria-label': `Holiday ${i + 1} date` }));
        const name = /** @type {HTMLInputElement} */ (
          el('input', { type: 'text', value: h.name, maxlength: 100, placeholder: 'Christmas Eve', 'aria-label': `Holiday ${i + 1} name` })
        );
        date.addEventListener('input', () => {
          h.date = date.value;
          this.changed();
        });
        name.addEventListener('input', () => {
          h.name = name.value;
          this.changed();
        });
        const remove = el('button', { type: 'button', class: 'button button-quiet qf-small', 'aria-label': `Remove holiday ${i + 1}` }, 'Remove');
        remove.addEventListener('click', () => {
          this.list.splice(i, 1);
          this.render();
          this.changed();
        });
        return el('li', { class: 'qf-row' }, date, name, remove);
      }),
    );
    if (this.list.length === 0) this.rows.append(el('li', { class: 'qf-empty' }, 'No holidays.'));
  }
}
