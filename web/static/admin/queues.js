// @ts-check
// The admin console's Queues tab: the list of queues and one page per
// queue (a new one, or one that exists) with every setting in sections
// (queues-form.js), the embed snippet, a live preview of the widget
// (preview.js) and the change log (queues-changes.js).
//
// Save sends the whole configuration (PUT /api/admin/queues/{key}); a
// refusal is shown at the field the server's message names, which gets
// the focus. Edits not saved are marked beside Save, and leaving the page
// (another queue, another tab, the browser's own navigation) asks first.

import { el, setText } from '../lib/dom.js';
import { errorText } from '../lib/util.js';
import { api, ApiError } from './api.js';
import { newQueue, QueueForm } from './queues-form.js';
import { ChangeLog } from './queues-changes.js';
import { CannedEditor } from './queues-canned.js';
import { Embed, Secret } from './queues-embed.js';
import { Preview } from './preview.js';
import { openAt } from './queues-hours.js';

/**
 * @typedef {import('./queues-form.js').QueueConfig} QueueConfig
 * @typedef {import('./queues-members.js').User} User
 */

/** @type {import('./types.js').Ctx} */
let ctx;
/** @type {HTMLElement} */
let root;
/** @type {QueueConfig[]} */
let queues = [];
/** @type {User[]} */
let users = [];
/** @type {Editor | null} the queue page shown, if any */
let editor = null;

const listBody = el('tbody');
const listStatus = el('p', { class: 'qf-hint', role: 'status', 'aria-live': 'polite' });
const listView = el(
  'div',
  { class: 'ql' },
  el(
    'div',
    { class: 'ql-head' },
    el('h2', { class: 'ql-title' }, 'Queues'),
    (() => {
      const b = el('button', { type: 'button', class: 'button button-primary', id: 'q-new' }, 'New queue');
      b.addEventListener('click', () => void openEditor(null));
      return b;
    })(),
  ),
  el(
    'table',
    { class: 'ql-table', id: 'q-list' },
    el('caption', { class: 'visually-hidden' }, 'Queues'),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...['Name', 'Key', 'Members', 'Now', 'Disabled'].map((h) => el('th', { scope: 'col' }, h)),
      ),
    ),
    listBody,
  ),
  listStatus,
);
const pageView = el('div', { class: 'qpage', hidden: true });
const leaveDialog = /** @type {HTMLDialogElement} */ (el('dialog', { class: 'dialog', 'aria-labelledby': 'q-leave-title' }));

/**
 * @param {import('./types.js').Ctx} c
 * @param {HTMLElement} r
 */
export async function mount(c, r) {
  ctx = c;
  root = r;
  root.replaceChildren(listView, pageView, leaveDialog);
  window.addEventListener('beforeunload', (e) => {
    if (editor?.dirty) e.preventDefault();
  });
  // Another tab of the console, while edits are not saved: ask first.
  document.addEventListener(
    'click',
    (e) => {
      const tab = e.target instanceof Element ? e.target.closest('.adm-tab') : null;
      if (!tab || tab.id === 'tab-queues' || !editor?.dirty) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      void confirmLeave().then((leave) => {
        if (!leave || !editor) return;
        editor.discard();
        /** @type {HTMLElement} */ (tab).click();
      });
    },
    true,
  );
  await refresh();
}

export function shown() {
  if (!editor) void refresh();
}

/** Reads the queues and the users, and lists the queues. */
async function refresh() {
  try {
    const [q, u] = await Promise.all([api('GET', '/api/admin/queues'), api('GET', '/api/admin/users')]);
    queues = q.queues;
    users = u.users;
    renderList();
  } catch (err) {
    setText(listStatus, `The queues could not be read: ${errorText(err)}`);
  }
}

function renderList() {
  listBody.replaceChildren(
    ...queues.map((q) => {
      const open = el('button', { type: 'button', class: 'link-button ql-open' }, q.name);
      open.addEventListener('click', () => void openEditor(q));
      const isOpen = openAt(q);
      return el(
        'tr',
        { 'data-key': q.key },
        el('td', {}, open),
        el('td', {}, el('code', {}, q.key)),
        el('td', {}, String(q.members.length)),
        el('td', {}, el('span', { class: `ql-state ql-${isOpen ? 'open' : 'closed'}` }, isOpen ? 'Open' : 'Closed')),
        el('td', {}, q.disabled ? 'Disabled' : '—'),
      );
    }),
  );
  setText(listStatus, queues.length === 0 ? 'No queues yet.' : '');
}

/**
 * Shows a queue's page (null: a new queue).
 * @param {QueueConfig | null} q
 */
async function openEditor(q) {
  editor?.close();
  editor = new Editor(q);
  listView.hidden = true;
  pageView.hidden = false;
  pageView.replaceChildren(editor.root);
  editor.form.setUsers(users);
  editor.load();
  editor.focus();
  // Accounts may have changed since the list was read.
  try {
    users = (await api('GET', '/api/admin/users')).users;
    editor?.form.setUsers(users);
  } catch {
    // the list read before stays
  }
}

async function backToList() {
  if (editor?.dirty && !(await confirmLeave())) return;
  editor?.close();
  editor = null;
  pageView.hidden = true;
  pageView.replaceChildren();
  listView.hidden = false;
  renderList(); // with what this page saved, until the server's list comes
  await refresh();
}

/**
 * Asks whether to leave edits unsaved (an in-page dialog).
 * @returns {Promise<boolean>}
 */
function confirmLeave() {
  return new Promise((resolve) => {
    const leave = el('button', { type: 'button', class: 'button button-danger' }, 'Leave without saving');
    const stay = el('button', { type: 'button', class: 'button button-primary' }, 'Stay');
    leaveDialog.replaceChildren(
      el(
        'div',
        { class: 'dialog-form' },
        el('h2', { class: 'dialog-title', id: 'q-leave-title' }, 'Unsaved changes'),
        el('p', { class: 'dialog-text' }, 'This queue has changes that are not saved. Leave them?'),
        el('div', { class: 'qf-inline' }, stay, leave),
      ),
    );
    /** @param {boolean} v */
    const done = (v) => {
      leaveDialog.close();
      resolve(v);
    };
    leave.addEventListener('click', () => done(true));
    stay.addEventListener('click', () => done(false));
    leaveDialog.addEventListener('cancel', () => resolve(false), { once: true });
    leaveDialog.showModal();
    stay.focus();
  });
}

/** One queue's page. */
class Editor {
  /** @param {QueueConfig | null} q the queue as saved; null: a new one */
  constructor(q) {
    this.isNew = q === null;
    /** @type {QueueConfig} */
    this.saved = q ? structuredClone(q) : newQueue();
    this.baseline = '';
    this.dirty = false;
    this.embed = new Embed();
    this.secret = new Secret();
    this.changes = new ChangeLog();
    this.canned = new CannedEditor();
    this.preview = new Preview();
    this.form = new QueueForm({ isNew: this.isNew, changed: () => this.changed(), extra: { secret: this.secret.root } });

    this.title = el('h2', { class: 'qpage-title', id: 'q-page-title', tabindex: -1 });
    this.mark = el('span', { class: 'qpage-dirty', id: 'q-dirty', hidden: true }, 'Unsaved changes');
    this.saveButton = /** @type {HTMLButtonElement} */ (el('button', { type: 'button', class: 'button button-primary', id: 'q-save' }, 'Save'));
    this.status = el('p', { class: 'qpage-status', id: 'q-status', role: 'status', 'aria-live': 'polite' });
    const back = el('button', { type: 'button', class: 'button button-quiet' }, '← All queues');
    back.addEventListener('click', () => void backToList());
    this.saveButton.addEventListener('click', () => void this.save());

    this.root = el(
      'div',
      { class: 'qpage-inner' },
      el('div', { class: 'qpage-bar' }, back, this.title, el('div', { class: 'qpage-actions' }, this.mark, this.status, this.saveButton)),
      el(
        'div',
        { class: 'qpage-columns' },
        el('div', { class: 'qpage-main' }, this.form.root),
        el(
          'aside',
          { class: 'qpage-side', 'aria-label': 'Embed and preview' },
          el('section', { class: 'qf-section', 'aria-labelledby': 'q-sec-embed' }, el('h3', { class: 'qf-section-title', id: 'q-sec-embed' }, 'Embed'), this.embed.root),
          el('section', { class: 'qf-section', 'aria-labelledby': 'q-sec-preview' }, el('h3', { class: 'qf-section-title', id: 'q-sec-preview' }, 'Preview'), this.preview.root),
        ),
      ),
      el('section', { class: 'qf-section', 'aria-labelledby': 'q-sec-canned' }, el('h3', { class: 'qf-section-title', id: 'q-sec-canned' }, 'Canned responses'), this.canned.root),
      el('section', { class: 'qf-section', 'aria-labelledby': 'q-sec-changes' }, el('h3', { class: 'qf-section-title', id: 'q-sec-changes' }, 'Change log'), this.changes.root),
    );
  }

  /** Fills the page from the saved settings. */
  load() {
    this.form.set(this.saved);
    this.baseline = JSON.stringify(this.form.value(this.saved));
    setText(this.title, this.isNew ? 'New queue' : this.saved.name);
    this.embed.show(this.saved.key, !this.isNew);
    void this.secret.show(this.saved.key, !this.isNew);
    if (this.isNew) this.changes.root.hidden = true;
    else void this.changes.show(this.saved.key);
    void this.canned.show(this.saved.key, !this.isNew);
    this.changed();
  }

  focus() {
    this.title.focus();
  }

  /** After every edit: the unsaved mark, the snippet of a new key, the preview. */
  changed() {
    const now = this.form.value(this.saved);
    this.dirty = JSON.stringify(now) !== this.baseline;
    this.mark.hidden = !this.dirty;
    this.saveButton.dataset.dirty = String(this.dirty);
    if (this.isNew) this.embed.show(now.key, false);
    this.preview.show(now);
  }

  /** Drops the edits: the page shows the saved settings again. */
  discard() {
    this.form.clearErrors();
    this.load();
  }

  async save() {
    this.form.clearErrors();
    const q = this.form.value(this.saved);
    // PUT replaces a queue that has the key: a new one must not take an existing key.
    const taken = this.isNew && queues.some((x) => x.key === q.key);
    if (this.isNew && (taken || !/^[A-Za-z0-9_-]{3,64}$/.test(q.key))) {
      const message = taken ? `key: the queue “${queues.find((x) => x.key === q.key)?.name}” has this key` : 'key: 3–64 of A-Z a-z 0-9 _ -';
      this.form.showError('key', message);
      setText(this.status, `Not saved: ${message}`);
      return;
    }
    this.saveButton.disabled = true;
    setText(this.status, 'Saving…');
    try {
      const res = /** @type {QueueConfig} */ (await api('PUT', `/api/admin/queues/${encodeURIComponent(q.key)}`, q));
      const wasNew = this.isNew;
      setText(this.status, 'Saved');
      const i = queues.findIndex((x) => x.key === res.key);
      if (i >= 0) queues[i] = res;
      else queues.push(res);
      if (wasNew) {
        // The page of the queue that now exists (its key fixed).
        await openEditor(res);
        if (editor) setText(editor.status, 'Saved');
        return;
      }
      this.saved = res;
      this.load();
    } catch (err) {
      if (err instanceof ApiError && err.field && this.form.showError(err.field, err.message)) {
        setText(this.status, `Not saved: ${err.message}`);
      } else {
        setText(this.status, `Not saved: ${errorText(err)}`);
        ctx.notices(`The queue was not saved: ${errorText(err)}`);
      }
    } finally {
      this.saveButton.disabled = false;
    }
  }

  close() {
    this.preview.close();
  }
}
