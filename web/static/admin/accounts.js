// @ts-check
// The admin console's Accounts tab (docs/protocol.md, "Administration"):
// every account in a table (name, username, role, status, last sign-in),
// the "New account" form, and per account Edit (name and role), Reset
// password and Deactivate (with a confirm) or Reactivate, each in a
// dialog. The server's message about a field shows at that field; what
// changed shows in the table at once.

import { el, setText } from '../lib/dom.js';
import { errorText, sentence } from '../lib/util.js';
import { formDialog } from '../lib/form-dialog.js';
import { api, ApiError } from './api.js';

/**
 * @typedef {{id: number, username: string, name: string, role: string, active: boolean,
 *   created_at: string, deactivated_at: string | null, last_sign_in_at: string | null}} Account
 */

const ROLES = [
  { value: 'agent', label: 'Agent' },
  { value: 'supervisor', label: 'Supervisor' },
  { value: 'admin', label: 'Admin' },
];

/** @param {string} role */
const roleLabel = (role) => ROLES.find((r) => r.value === role)?.label ?? role;

/**
 * The field an error is about: a bad_request or conflict message starting
 * with it ("name: 1–100 characters", "username: \"carla\" is taken", or
 * bind's "\"name\" cannot be a JSON number"); '' when it names none.
 * @param {unknown} err
 * @returns {string}
 */
function fieldOf(err) {
  if (!(err instanceof ApiError) || (err.code !== 'bad_request' && err.code !== 'conflict')) return '';
  const m = /^"?([a-z_]+)"?:? /.exec(err.message);
  return m ? m[1] : '';
}

/**
 * A labelled input or select with its own error line, which the server's
 * message about that field fills.
 */
class Field {
  /**
   * @param {string} id
   * @param {string} label
   * @param {HTMLInputElement | HTMLSelectElement} control
   */
  constructor(id, label, control) {
    this.control = control;
    control.id = id;
    this.error = el('p', { class: 'acc-field-error', id: `${id}-error`, hidden: true });
    control.setAttribute('aria-describedby', this.error.id);
    this.node = el('div', { class: 'field' }, el('label', { for: id }, label), control, this.error);
  }

  /** @param {string} message */
  fail(message) {
    setText(this.error, message);
    this.error.hidden = false;
    this.control.setAttribute('aria-invalid', 'true');
  }

  clear() {
    this.error.hidden = true;
    setText(this.error, '');
    this.control.removeAttribute('aria-invalid');
  }
}

/**
 * @param {string} id
 * @param {string} label
 * @param {Record<string, string>} [attrs]
 */
function textField(id, label, attrs = {}) {
  return new Field(id, label, el('input', { type: 'text', autocomplete: 'off', ...attrs }));
}

/**
 * @param {string} id
 * @param {string} value
 */
function roleField(id, value) {
  const select = el('select', {}, ...ROLES.map((r) => el('option', { value: r.value, selected: r.value === value }, r.label)));
  return new Field(id, 'Role', select);
}

/**
 * Shows err at its field when it names one of fields, else in other.
 * @param {unknown} err
 * @param {Record<string, Field>} fields
 * @param {(message: string) => void} other
 */
function showError(err, fields, other) {
  const f = fields[fieldOf(err)];
  if (f) {
    // The label names the field already: "username: …" shows as "…".
    f.fail(sentence(/** @type {Error} */ (err).message.replace(/^[a-z_]+: /, '')));
    f.control.focus();
  } else {
    other(errorText(err));
  }
}

/**
 * The account dialogs' form dialog (lib/form-dialog.js): an error shown at
 * its field, or a 401 (api.js is leaving for the sign-in page), leaves the
 * error line empty.
 * @param {string} title
 * @param {string} text
 * @param {string} confirm
 * @param {HTMLElement[]} fields
 * @param {boolean} [danger]
 */
function dialog(title, text, confirm, fields, danger = false) {
  return formDialog({
    title,
    text,
    confirm,
    fields,
    danger,
    className: 'acc-dialog',
    shownElsewhere: (err) => (err instanceof ApiError && err.status === 401) || err instanceof FieldShown,
  });
}

/** Thrown when the error already shows at its field. */
class FieldShown extends Error {}

/** @param {string | null} iso */
function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

class Accounts {
  /**
   * @param {import('./types.js').Ctx} ctx
   * @param {HTMLElement} root
   */
  constructor(ctx, root) {
    this.ctx = ctx;
    /** @type {Map<number, {account: Account, row: HTMLTableRowElement}>} */
    this.rows = new Map();
    this.status = el('p', { class: 'acc-status', id: 'accounts-status', role: 'status', 'aria-live': 'polite' });
    this.body = el('tbody', {});
    this.table = el(
      'table',
      { class: 'acc-table', 'aria-label': 'Accounts' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { scope: 'col' }, 'Name'),
          el('th', { scope: 'col' }, 'Username'),
          el('th', { scope: 'col' }, 'Role'),
          el('th', { scope: 'col' }, 'Status'),
          el('th', { scope: 'col' }, 'Last sign-in'),
          el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Actions')),
        ),
      ),
      this.body,
    );
    root.replaceChildren(
      el('div', { class: 'acc-head' }, el('h1', { class: 'acc-title' }, 'Accounts')),
      this.newForm(),
      this.status,
      this.table,
    );
  }

  async load() {
    try {
      /** @type {{users: Account[]}} */
      const answer = await api('GET', '/api/admin/users');
      this.body.replaceChildren();
      this.rows.clear();
      for (const a of answer.users) this.put(a);
    } catch (err) {
      this.ctx.notices(`Could not read the accounts: ${errorText(err)}`);
    }
  }

  /** The "New account" form. */
  newForm() {
    const f = {
      username: textField('new-username', 'Username', { autocapitalize: 'none', spellcheck: 'false', maxlength: '64' }),
      name: textField('new-name', 'Name', { maxlength: '100' }),
      role: roleField('new-role', 'agent'),
      password: textField('new-password', 'Password', { type: 'password', autocomplete: 'new-password', maxlength: '72' }),
    };
    const error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    const submit = el('button', { class: 'button button-primary', type: 'submit' }, 'Create account');
    const form = el(
      'form',
      { class: 'acc-new', id: 'new-account', 'aria-labelledby': 'new-account-title', novalidate: true },
      el('h2', { class: 'acc-subtitle', id: 'new-account-title' }, 'New account'),
      el('div', { class: 'acc-new-fields' }, f.username.node, f.name.node, f.role.node, f.password.node),
      error,
      el('div', { class: 'acc-new-buttons' }, submit),
    );
    form.addEventListener('input', (e) => {
      for (const field of Object.values(f)) if (field.control === e.target) field.clear();
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (submit.disabled) return;
      for (const field of Object.values(f)) field.clear();
      error.hidden = true;
      submit.disabled = true;
      const u = /** @type {HTMLInputElement} */ (f.username.control);
      const n = /** @type {HTMLInputElement} */ (f.name.control);
      const p = /** @type {HTMLInputElement} */ (f.password.control);
      try {
        /** @type {{id: number, username: string, name: string, role: string}} */
        const a = await api('POST', '/api/admin/users', { username: u.value.trim(), name: n.value.trim(), role: f.role.control.value, password: p.value });
        // The answer is the user; the list's fields follow from it.
        this.put({ active: true, created_at: new Date().toISOString(), deactivated_at: null, last_sign_in_at: null, ...a }, true);
        this.say(`Created ${a.name} (${a.username}), ${roleLabel(a.role).toLowerCase()}.`);
        form.reset();
        u.focus();
      } catch (err) {
        showError(err, f, (message) => {
          setText(error, message);
          error.hidden = false;
        });
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  /** @param {string} text */
  say(text) {
    setText(this.status, text);
  }

  /**
   * Adds or replaces account a's row (in username order) and marks it as
   * just changed when fresh.
   * @param {Account} a
   * @param {boolean} [fresh]
   */
  put(a, fresh = false) {
    const row = this.row(a);
    const old = this.rows.get(a.id);
    if (old) {
      old.row.replaceWith(row);
    } else {
      const after = [...this.rows.values()].find((r) => r.account.username > a.username);
      this.body.insertBefore(row, after ? after.row : null);
    }
    this.rows.set(a.id, { account: a, row });
    if (fresh) row.classList.add('acc-changed');
  }

  /**
   * @param {Account} a
   * @returns {HTMLTableRowElement}
   */
  row(a) {
    const me = a.id === this.ctx.me.id;
    const edit = el('button', { class: 'button button-quiet acc-edit', type: 'button' }, 'Edit');
    edit.addEventListener('click', () => this.openEdit(a));
    const reset = el('button', { class: 'button button-quiet acc-reset', type: 'button' }, 'Reset password');
    reset.addEventListener('click', () => this.openReset(a));
    /** @type {HTMLElement} */
    let toggle;
    if (!a.active) {
      toggle = el('button', { class: 'button button-quiet acc-reactivate', type: 'button' }, 'Reactivate');
      toggle.addEventListener('click', () => void this.reactivate(a, /** @type {HTMLButtonElement} */ (toggle)));
    } else if (me) {
      toggle = el('span', { class: 'acc-you' }, 'You');
    } else {
      toggle = el('button', { class: 'button button-quiet acc-deactivate', type: 'button' }, 'Deactivate');
      toggle.addEventListener('click', () => this.openDeactivate(a));
    }
    const since = a.deactivated_at ? `since ${when(a.deactivated_at)}` : '';
    return el(
      'tr',
      { class: a.active ? 'acc-row' : 'acc-row acc-inactive', 'data-user': String(a.id), 'data-username': a.username },
      el('th', { scope: 'row', class: 'acc-name' }, a.name),
      el('td', { class: 'acc-username' }, a.username),
      el('td', { class: 'acc-role' }, roleLabel(a.role)),
      el(
        'td',
        { class: 'acc-state' },
        el('span', { class: a.active ? 'acc-badge acc-badge-active' : 'acc-badge acc-badge-off', title: since || null }, a.active ? 'Active' : 'Deactivated'),
      ),
      el('td', { class: 'acc-last' }, when(a.last_sign_in_at) || 'Never'),
      el(
        'td',
        { class: 'acc-actions' },
        el('div', { class: 'acc-actions-inner', role: 'group', 'aria-label': `Actions for ${a.name}` }, edit, reset, toggle),
      ),
    );
  }

  /** @param {Account} a */
  openEdit(a) {
    const f = { name: textField('edit-name', 'Name', { maxlength: '100' }), role: roleField('edit-role', a.role) };
    /** @type {HTMLInputElement} */ (f.name.control).value = a.name;
    const d = dialog(`Edit ${a.name}`, `Username: ${a.username}`, 'Save', [f.name.node, f.role.node]);
    d.onSubmit = async () => {
      f.name.clear();
      f.role.clear();
      /** @type {{name?: string, role?: string}} */
      const change = {};
      const name = /** @type {HTMLInputElement} */ (f.name.control).value.trim();
      if (name !== a.name) change.name = name;
      if (f.role.control.value !== a.role) change.role = f.role.control.value;
      if (!('name' in change) && !('role' in change)) return;
      try {
        /** @type {Account} */
        const saved = await api('PATCH', `/api/admin/users/${a.id}`, change);
        this.put(saved, true);
        this.say(`Saved ${saved.name} (${saved.username}), ${roleLabel(saved.role).toLowerCase()}.`);
      } catch (err) {
        showError(err, f, (message) => d.fail(message));
        throw new FieldShown();
      }
    };
    d.show(f.name.control);
  }

  /** @param {Account} a */
  openReset(a) {
    const f = { password: textField('reset-password', 'New password', { type: 'password', autocomplete: 'new-password', maxlength: '72' }) };
    const self = a.id === this.ctx.me.id;
    const text = self
      ? 'Your other sessions end; you stay signed in here.'
      : `${a.name} is signed out everywhere and signs in with the new password. Tell them what it is.`;
    const d = dialog(`Reset the password of ${a.name}`, text, 'Set password', [f.password.node]);
    d.onSubmit = async () => {
      f.password.clear();
      try {
        await api('POST', `/api/admin/users/${a.id}/password`, { password: /** @type {HTMLInputElement} */ (f.password.control).value });
        this.say(self ? 'Your password is changed.' : `${a.name} has a new password and is signed out everywhere.`);
      } catch (err) {
        showError(err, f, (message) => d.fail(message));
        throw new FieldShown();
      }
    };
    d.show(f.password.control);
  }

  /** @param {Account} a */
  openDeactivate(a) {
    const d = dialog(
      `Deactivate ${a.name}?`,
      `${a.name} is signed out everywhere at once and cannot sign in until reactivated. Their chats go back to their queues; their name stays in the history.`,
      'Deactivate',
      [],
      true,
    );
    d.onSubmit = async () => {
      /** @type {Account} */
      const saved = await api('POST', `/api/admin/users/${a.id}/deactivate`);
      this.put(saved, true);
      this.say(`${saved.name} is deactivated and signed out everywhere.`);
    };
    d.show(null);
  }

  /**
   * @param {Account} a
   * @param {HTMLButtonElement} button
   */
  async reactivate(a, button) {
    button.disabled = true;
    try {
      /** @type {Account} */
      const saved = await api('POST', `/api/admin/users/${a.id}/reactivate`);
      this.put(saved, true);
      this.say(`${saved.name} is active again and can sign in.`);
    } catch (err) {
      button.disabled = false;
      this.ctx.notices(`Could not reactivate ${a.name}: ${errorText(err)}`);
    }
  }
}

/** @type {Accounts | null} */
let section = null;

/**
 * @param {import('./types.js').Ctx} ctx
 * @param {HTMLElement} root
 */
export async function mount(ctx, root) {
  section = new Accounts(ctx, root);
  await section.load();
}

/** Shown again: read the accounts again (another admin may have changed them). */
export function shown() {
  void section?.load();
}
