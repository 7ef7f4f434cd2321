// @ts-check
// The Queues tab's settings form: one queue's every setting
// (docs/protocol.md, "Administration"), in sections, each input named
// for its field so that the server's refusal ("capacity: 1–100 chats per
// agent") shows at the field it names.
//
// Canned responses belong to the conversations issue (18) and are not
// part of this form yet.

import { el, setText } from '../lib/dom.js';
import { HoursEditor, HolidaysEditor, timeZones } from './queues-hours.js';
import { MembersPicker } from './queues-members.js';
import { FilesEditor } from './queues-files.js';

/**
 * A queue as the admin API has it.
 * @typedef {object} QueueConfig
 * @property {number} [id]
 * @property {string} key
 * @property {string} name
 * @property {string} title
 * @property {string} color
 * @property {string} greeting
 * @property {boolean} show_agent_name
 * @property {string} agent_alias
 * @property {string} email_mode
 * @property {string} extra_label
 * @property {string} extra_mode
 * @property {string} strategy
 * @property {number} capacity
 * @property {number} answer_seconds
 * @property {string[]} allowed_origins
 * @property {string[]} statuses
 * @property {boolean} customer_calls
 * @property {boolean} feedback
 * @property {number} wait_alert_seconds
 * @property {number} service_level_seconds
 * @property {number[]} chat_time_limits
 * @property {boolean} disabled
 * @property {string} time_zone
 * @property {import('./queues-hours.js').Hours | null} hours
 * @property {import('./queues-hours.js').Holiday[]} holidays
 * @property {string} offline_message
 * @property {string} unavailable_message
 * @property {boolean} offline_form
 * @property {string} offline_email
 * @property {number} max_waiting
 * @property {number} max_wait_seconds
 * @property {number} auto_finish_seconds
 * @property {string} missed_offers
 * @property {boolean} verified_only
 * @property {number} file_max_bytes
 * @property {string[]} file_types
 * @property {string} transcript_email
 * @property {string[]} members
 */

/**
 * A simple field: one input for one setting.
 * @typedef {object} Simple
 * @property {keyof QueueConfig} name
 * @property {string} label
 * @property {'text' | 'textarea' | 'number' | 'select' | 'checkbox' | 'color' | 'email'} kind
 * @property {string} [hint]
 * @property {[string, string][]} [options] value and label, for a select
 */

/** @type {Record<string, Simple[]>} */
const SIMPLE = {
  general: [
    { name: 'name', label: 'Name', kind: 'text', hint: 'Agents see it; customers too when agent names are hidden.' },
    { name: 'title', label: 'Title', kind: 'text', hint: 'The widget’s header. Empty: “Chat with us”.' },
    { name: 'color', label: 'Colour', kind: 'color' },
    { name: 'greeting', label: 'Greeting', kind: 'textarea', hint: 'Sent as the agent’s first message when they accept.' },
    { name: 'disabled', label: 'Disabled: out of service (history kept, nothing routed, the widget shows the offline message)', kind: 'checkbox' },
  ],
  prechat: [
    { name: 'email_mode', label: 'E-mail', kind: 'select', options: [['optional', 'Optional'], ['required', 'Required']] },
    { name: 'extra_label', label: 'Extra field’s label', kind: 'text', hint: 'For example “Phone” or “Order number”.' },
    { name: 'extra_mode', label: 'Extra field', kind: 'select', options: [['hidden', 'Hidden'], ['optional', 'Optional'], ['required', 'Required']] },
  ],
  routing: [
    {
      name: 'strategy',
      label: 'Strategy',
      kind: 'select',
      options: [
        ['longest_idle', 'Longest idle'],
        ['least_busy', 'Least busy'],
        ['round_robin', 'Round robin'],
        ['ring_all', 'Ring all'],
      ],
    },
    { name: 'capacity', label: 'Chats per agent', kind: 'number', hint: '1–100' },
    { name: 'answer_seconds', label: 'Seconds to accept an offer', kind: 'number', hint: '1–600' },
    { name: 'missed_offers', label: 'Missed offers', kind: 'select', options: [['pause', 'Pause the agent after two in a row'], ['ignore', 'Leave the agent available']] },
  ],
  limits: [
    { name: 'max_waiting', label: 'Most chats waiting at once', kind: 'number', hint: '0 is no limit.' },
    { name: 'max_wait_seconds', label: 'Longest wait, seconds', kind: 'number', hint: '0 is no limit; else 10–86400. A longer wait ends with the “not available” message.' },
    { name: 'auto_finish_seconds', label: 'Close a chat whose customer left after, seconds', kind: 'number', hint: '0 is never; else 10–86400.' },
    { name: 'wait_alert_seconds', label: 'Alert supervisors of a wait longer than, seconds', kind: 'number', hint: '1–3600' },
  ],
  service: [{ name: 'service_level_seconds', label: 'Service level: answered within, seconds', kind: 'number', hint: '1–3600' }],
  offline: [
    { name: 'offline_message', label: 'Offline message', kind: 'textarea', hint: 'Shown outside hours and while disabled.' },
    { name: 'unavailable_message', label: '“Not available” message', kind: 'textarea', hint: 'Shown when the queue is full or a wait was too long.' },
    { name: 'offline_form', label: 'Offer the offline form (name, e-mail, message)', kind: 'checkbox' },
    { name: 'offline_email', label: 'Mail offline messages to', kind: 'email' },
  ],
  widget: [
    { name: 'show_agent_name', label: 'Show the agent’s name to customers', kind: 'checkbox' },
    { name: 'agent_alias', label: 'Agents’ name when hidden', kind: 'text', hint: 'Empty: the queue’s name.' },
    { name: 'customer_calls', label: 'Customers may start audio and video calls', kind: 'checkbox' },
    { name: 'feedback', label: 'Ask for feedback when a chat ends', kind: 'checkbox' },
    {
      name: 'transcript_email',
      label: 'Transcript by e-mail',
      kind: 'select',
      options: [['off', 'Off'], ['ask', 'Offer it when the chat ends'], ['always', 'Always send it to the customer’s e-mail']],
    },
  ],
  identity: [{ name: 'verified_only', label: 'Verified only: refuse customers whose identity your site did not sign', kind: 'checkbox' }],
};

/** The defaults of a new queue, as the server fills them. */
export function newQueue() {
  /** @type {QueueConfig} */
  const q = {
    key: '',
    name: '',
    title: 'Chat with us',
    color: '#2f6fed',
    greeting: '',
    show_agent_name: true,
    agent_alias: '',
    email_mode: 'optional',
    extra_label: '',
    extra_mode: 'hidden',
    strategy: 'longest_idle',
    capacity: 3,
    answer_seconds: 20,
    allowed_origins: [],
    statuses: ['Resolved'],
    customer_calls: false,
    feedback: false,
    wait_alert_seconds: 60,
    service_level_seconds: 20,
    chat_time_limits: [300, 600, 900],
    disabled: false,
    time_zone: 'UTC',
    hours: null,
    holidays: [],
    offline_message: DEFAULT_OFFLINE,
    unavailable_message: DEFAULT_UNAVAILABLE,
    offline_form: false,
    offline_email: '',
    max_waiting: 0,
    max_wait_seconds: 0,
    auto_finish_seconds: 0,
    missed_offers: 'pause',
    verified_only: false,
    file_max_bytes: 20 * 1024 * 1024,
    file_types: ['images', 'pdf', 'text', 'office', 'audio', 'video'],
    transcript_email: 'off',
    members: [],
  };
  return q;
}

/** The server's default texts (chat/queues/hours.go), which an empty message takes. */
export const DEFAULT_OFFLINE = "We're away right now. Leave us a message and we'll get back to you.";
export const DEFAULT_UNAVAILABLE = 'All our agents are busy right now. Please try again in a little while.';

export class QueueForm {
  /**
   * @param {{isNew: boolean, changed: () => void, extra: Record<string, HTMLElement>}} opts
   *   extra: more sections' content by name ("embed", "secret", "changes"), placed in the page
   */
  constructor(opts) {
    this.isNew = opts.isNew;
    this.changed = () => opts.changed();
    /** @type {Map<string, {input: HTMLElement, error: HTMLElement, focus: (detail: string) => HTMLElement}>} */
    this.fields = new Map();
    /** @type {Map<string, HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>} */
    this.inputs = new Map();

    this.hours = new HoursEditor(this.changed);
    this.holidays = new HolidaysEditor(this.changed);
    this.members = new MembersPicker(this.changed);
    this.files = new FilesEditor(this.changed);
    this.limits = [0, 1, 2].map(
      (i) =>
        /** @type {HTMLInputElement} */ (
          el('input', {
            type: 'number',
            min: 1,
            max: 86400,
            id: i === 0 ? 'q-chat_time_limits' : `q-chat_time_limits-${i}`,
            'aria-label': ['Amber from, seconds', 'Red from, seconds', 'Over from, seconds (optional)'][i],
          })
        ),
    );
    for (const l of this.limits) l.addEventListener('input', this.changed);
    this.origins = new TextList('allowed_origins', 'Allowed site', 'https://www.example.com', false, this.changed);
    this.statuses = new TextList('statuses', 'Status', 'Resolved', true, this.changed);
    this.zone = /** @type {HTMLSelectElement} */ (el('select', { id: 'q-time_zone' }));
    for (const z of timeZones()) this.zone.append(el('option', { value: z }, z));
    this.zone.addEventListener('change', this.changed);

    this.key = /** @type {HTMLInputElement} */ (
      el('input', { type: 'text', id: 'q-key', maxlength: 64, spellcheck: 'false', autocomplete: 'off', pattern: '[A-Za-z0-9_-]{3,64}' })
    );
    this.key.addEventListener('input', this.changed);

    const general = this.simple('general');
    this.keyShown = el('code', { id: 'q-key-shown' });
    if (this.isNew) {
      general.splice(1, 0, this.wrap('key', 'Key', this.key, 'In the embed snippet; 3–64 of A–Z a–z 0–9 _ -. It cannot change later.'));
    } else {
      general.splice(1, 0, el('p', { class: 'qf-field' }, el('span', { class: 'qf-label' }, 'Key'), this.keyShown));
    }

    this.root = el(
      'div',
      { class: 'qf' },
      section('General', 'q-sec-general', ...general),
      section('Pre-chat form', 'q-sec-prechat', ...this.simple('prechat')),
      section(
        'Routing',
        'q-sec-routing',
        ...this.simple('routing'),
        this.wrap('members', 'Members', this.members.root, 'The agents and supervisors who get this queue’s chats.', () => this.members.focusTarget()),
      ),
      section(
        'Hours',
        'q-sec-hours',
        this.wrap('time_zone', 'Time zone', this.zone),
        this.wrap('hours', 'Opening hours', this.hours.root, 'Times are HH:MM; 24:00 is the end of the day. A day without hours is closed.', (d) =>
          this.hours.focusTarget(/^(mon|tue|wed|thu|fri|sat|sun)\b/.exec(d)?.[1]),
        ),
        this.wrap('holidays', 'Holidays (closed all day)', this.holidays.root, undefined, (d) =>
          this.holidays.focusTarget(/\d{4}-\d\d-\d\d/.exec(d)?.[0]),
        ),
      ),
      section('Limits', 'q-sec-limits', ...this.simple('limits')),
      section(
        'Service',
        'q-sec-service',
        ...this.simple('service'),
        this.wrap(
          'chat_time_limits',
          'Chat time limits, seconds',
          el('div', { class: 'qf-inline', role: 'group', 'aria-label': 'Chat time limits' }, ...this.limits),
          'A live chat turns amber, then red, then (optional third) “over”. Each longer than the one before.',
          () => this.limits[0],
        ),
      ),
      section('Offline', 'q-sec-offline', ...this.simple('offline')),
      section(
        'Widget',
        'q-sec-widget',
        this.wrap('allowed_origins', 'Allowed sites', this.origins.root, 'The sites that may embed the widget, as origins (no paths, no wildcards).', () =>
          this.origins.focusTarget(),
        ),
        ...this.simple('widget'),
      ),
      section(
        'Wrap-up statuses',
        'q-sec-statuses',
        this.wrap('statuses', 'Statuses', this.statuses.root, 'What an agent closes a chat as. None: no status asked.', () => this.statuses.focusTarget()),
      ),
      section('Identity', 'q-sec-identity', ...this.simple('identity'), opts.extra.secret),
      section(
        'Files',
        'q-sec-files',
        this.wrap('file_max_bytes', 'Largest file, MiB', this.files.max, '1 KiB (0.001) to 100 MiB; default 20.'),
        this.wrap('file_types', 'Kinds of file', this.files.types, 'Checked by content, not by name. None: no files.', () => this.files.firstType()),
      ),
    );
  }

  /**
   * The simple fields of a section, built.
   * @param {string} name
   * @returns {HTMLElement[]}
   */
  simple(name) {
    return SIMPLE[name].map((f) => {
      const id = `q-${f.name}`;
      /** @type {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} */
      let input;
      if (f.kind === 'select') {
        input = el('select', { id }, ...(f.options ?? []).map(([v, l]) => el('option', { value: v }, l)));
      } else if (f.kind === 'textarea') {
        input = el('textarea', { id, rows: 3 });
      } else {
        input = el('input', { id, type: f.kind, ...(f.kind === 'number' ? { min: 0, step: 1 } : {}) });
      }
      input.addEventListener(f.kind === 'select' || f.kind === 'checkbox' ? 'change' : 'input', this.changed);
      this.inputs.set(f.name, input);
      if (f.kind === 'checkbox') {
        const error = el('p', { class: 'qf-error', id: `${id}-error`, hidden: true });
        input.setAttribute('aria-describedby', error.id);
        this.fields.set(f.name, { input, error, focus: () => input });
        return el('div', { class: 'qf-field', 'data-field': f.name }, el('label', { class: 'qf-check' }, input, ' ', f.label), error);
      }
      return this.wrap(f.name, f.label, input, f.hint);
    });
  }

  /**
   * A field's label, control, hint and error line. The control is an
   * input (labelled by for=) or a group (labelled by aria-labelledby).
   * @param {string} name
   * @param {string} label
   * @param {HTMLElement} control
   * @param {string} [hint]
   * @param {(detail: string) => HTMLElement} [focus] what to focus for an error whose text is detail
   */
  wrap(name, label, control, hint, focus) {
    const error = el('p', { class: 'qf-error', id: `q-${name}-error`, hidden: true });
    const hintNode = hint ? el('p', { class: 'qf-hint', id: `q-${name}-hint` }, hint) : null;
    const isInput = control instanceof HTMLInputElement || control instanceof HTMLSelectElement || control instanceof HTMLTextAreaElement;
    const labelNode = isInput ? el('label', { for: control.id }, label) : el('span', { class: 'qf-label', id: `q-${name}-label` }, label);
    if (!isInput) {
      control.setAttribute('role', control.getAttribute('role') ?? 'group');
      control.setAttribute('aria-labelledby', `q-${name}-label`);
    }
    control.setAttribute('aria-describedby', [hintNode?.id, error.id].filter(Boolean).join(' '));
    this.fields.set(name, { input: control, error, focus: focus ?? (() => control) });
    return el('div', { class: 'qf-field', 'data-field': name }, labelNode, control, hintNode, error);
  }

  /** @param {QueueConfig} q */
  set(q) {
    for (const [name, input] of this.inputs) {
      const v = /** @type {any} */ (q)[name];
      if (input instanceof HTMLInputElement && input.type === 'checkbox') input.checked = Boolean(v);
      else input.value = v === undefined || v === null ? '' : String(v);
    }
    this.key.value = q.key;
    setText(this.keyShown, q.key);
    if (![...this.zone.options].some((o) => o.value === q.time_zone)) this.zone.append(el('option', { value: q.time_zone }, q.time_zone));
    this.zone.value = q.time_zone || 'UTC';
    this.hours.set(q.hours);
    this.holidays.set(q.holidays);
    this.members.set(q.members);
    this.limits.forEach((l, i) => (l.value = q.chat_time_limits?.[i] === undefined ? '' : String(q.chat_time_limits[i])));
    this.origins.set(q.allowed_origins);
    this.statuses.set(q.statuses);
    this.files.set(q);
  }

  /**
   * The settings as the form has them now.
   * @param {QueueConfig} base the queue's settings before (kept for what the form does not show)
   * @returns {QueueConfig}
   */
  value(base) {
    /** @type {any} */
    const q = { ...base };
    for (const [name, input] of this.inputs) {
      if (input instanceof HTMLInputElement && input.type === 'checkbox') q[name] = input.checked;
      else if (input instanceof HTMLInputElement && input.type === 'number') q[name] = input.value.trim() === '' ? 0 : Number(input.value);
      else q[name] = input.value;
    }
    if (this.isNew) q.key = this.key.value.trim();
    q.time_zone = this.zone.value;
    q.hours = this.hours.value();
    q.holidays = this.holidays.value();
    q.members = this.members.value();
    q.chat_time_limits = this.limits.map((l) => l.value.trim()).filter((v) => v !== '').map(Number);
    q.allowed_origins = this.origins.value();
    q.statuses = this.statuses.value();
    this.files.fill(q);
    return q;
  }

  /** @param {import('./queues-members.js').User[]} users */
  setUsers(users) {
    this.members.setUsers(users);
  }

  clearErrors() {
    for (const f of this.fields.values()) {
      f.error.hidden = true;
      setText(f.error, '');
      for (const n of [f.input, ...f.input.querySelectorAll('input, select, textarea')]) n.removeAttribute('aria-invalid');
    }
  }

  /**
   * Shows the server's message at the field it names and focuses it.
   * @param {string} field
   * @param {string} message the whole message, "field: what is wrong"
   * @returns {boolean} whether the form has that field
   */
  showError(field, message) {
    const f = this.fields.get(field);
    if (!f) return false;
    const detail = message.replace(/^[a-z_]+:\s*/, '');
    setText(f.error, detail);
    f.error.hidden = false;
    const target = f.focus(detail);
    target.setAttribute('aria-invalid', 'true');
    // A section scrolled out of sight is brought into view with the field.
    target.scrollIntoView({ block: 'center' });
    target.focus();
    return true;
  }
}

/**
 * A section of the form.
 * @param {string} title
 * @param {string} id
 * @param {...(HTMLElement | undefined)} children
 */
function section(title, id, ...children) {
  return el('section', { class: 'qf-section', 'aria-labelledby': id }, el('h3', { id, class: 'qf-section-title' }, title), ...children);
}

/**
 * A list of texts with Add and Remove, and, when ordered, Up and Down.
 */
class TextList {
  /**
   * @param {string} name
   * @param {string} label each item's label
   * @param {string} placeholder
   * @param {boolean} ordered
   * @param {() => void} changed
   */
  constructor(name, label, placeholder, ordered, changed) {
    this.name = name;
    this.label = label;
    this.placeholder = placeholder;
    this.ordered = ordered;
    this.changed = changed;
    /** @type {string[]} */
    this.items = [];
    this.rows = el('ul', { class: 'qf-list', id: `q-${name}` });
    const add = el('button', { type: 'button', class: 'button qf-small' }, `Add ${label.toLowerCase()}`);
    add.addEventListener('click', () => {
      this.items.push('');
      this.render();
      this.changed();
      /** @type {HTMLInputElement | null} */ (this.rows.querySelector('li:last-child input'))?.focus();
    });
    this.root = el('div', { class: 'qf-listed' }, this.rows, add);
  }

  /** @param {string[]} items */
  set(items) {
    this.items = [...(items ?? [])];
    this.render();
  }

  /** @returns {string[]} */
  value() {
    return this.items.map((s) => s.trim()).filter((s) => s !== '');
  }

  focusTarget() {
    return /** @type {HTMLElement} */ (this.root.querySelector('input, button'));
  }

  render() {
    this.rows.replaceChildren(
      ...this.items.map((item, i) => {
        const input = /** @type {HTMLInputElement} */ (
          el('input', { type: 'text', value: item, placeholder: this.placeholder, 'aria-label': `${this.label} ${i + 1}` })
        );
        input.addEventListener('input', () => {
          this.items[i] = input.value;
          this.changed();
        });
        /**
         * @param {string} text
         * @param {string} aria
         * @param {() => void} act
         * @param {boolean} [disabled]
         */
        const button = (text, aria, act, disabled = false) => {
          const b = el('button', { type: 'button', class: 'button button-quiet qf-small', 'aria-label': aria, disabled }, text);
          b.addEventListener('click', () => {
            act();
            this.render();
            this.changed();
          });
          return b;
        };
        const n = `${this.label.toLowerCase()} ${i + 1}`;
        /** @param {number} j */
        const swap = (j) => ([this.items[i], this.items[j]] = [this.items[j], this.items[i]]);
        return el(
          'li',
          { class: 'qf-row' },
          input,
          this.ordered ? button('↑', `Move ${n} up`, () => swap(i - 1), i === 0) : null,
          this.ordered ? button('↓', `Move ${n} down`, () => swap(i + 1), i === this.items.length - 1) : null,
          button('Remove', `Remove ${n}`, () => this.items.splice(i, 1)),
        );
      }),
    );
    if (this.items.length === 0) this.rows.append(el('li', { class: 'qf-empty' }, 'None.'));
  }
}
