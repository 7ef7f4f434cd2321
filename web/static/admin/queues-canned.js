// @ts-check
// The queue page's "Canned responses" section: the queue's ready-made
// replies (docs/protocol.md, "Administration", canned responses), listed
// in their order, added, edited, deleted (after a confirmation) and moved
// up or down. Each change is saved at once through its own REST request,
// apart from the queue's Save; a refusal is shown at the field it names.

import { el, setText } from '../lib/dom.js';
import { errorText } from '../lib/util.js';
import { api, ApiError } from './api.js';

/**
 * @typedef {{id: number, queue_id: number, title: string, text: string, position: number}} Canned
 */

const MAX_TITLE = 100;

export class CannedEditor {
  constructor() {
    this.key = '';
    /** @type {Canned[]} */
    this.items = [];
    /** @type {number} the response being edited; 0: a new one */
    this.editing = 0;

    this.list = el('ol', { class: 'qf-list', id: 'q-canned-list', 'aria-label': 'Canned responses' });
    this.status = el('p', { class: 'qf-hint', id: 'q-canned-status', role: 'status', 'aria-live': 'polite' });
    this.addButton = /** @type {HTMLButtonElement} */ (el('button', { type: 'button', class: 'button qf-small', id: 'q-canned-add' }, 'Add canned response'));

    this.title = /** @type {HTMLInputElement} */ (el('input', { type: 'text', id: 'q-canned-title', autocomplete: 'off' }));
    this.text = /** @type {HTMLTextAreaElement} */ (el('textarea', { id: 'q-canned-text', rows: 4 }));
    this.titleError = el('p', { class: 'qf-error', id: 'q-canned-title-error', hidden: true });
    this.textError = el('p', { class: 'qf-error', id: 'q-canned-text-error', hidden: true });
    this.title.setAttribute('aria-describedby', this.titleError.id);
    this.text.setAttribute('aria-describedby', this.textError.id);
    this.formTitle = el('h4', { class: 'qf-label', id: 'q-canned-form-title' });
    this.saveButton = /** @type {HTMLButtonElement} */ (el('button', { type: 'submit', class: 'button button-primary qf-small', id: 'q-canned-save' }, 'Save response'));
    const cancel = el('button', { type: 'button', class: 'button qf-small', id: 'q-canned-cancel' }, 'Cancel');
    this.form = /** @type {HTMLFormElement} */ (
      el(
        'form',
        { class: 'qf', id: 'q-canned-form', 'aria-labelledby': this.formTitle.id, hidden: true, novalidate: true },
        this.formTitle,
        el('div', { class: 'qf-field', 'data-field': 'canned-title' }, el('label', { for: this.title.id }, `Title (at most ${MAX_TITLE} characters)`), this.title, this.titleError),
        el('div', { class: 'qf-field', 'data-field': 'canned-text' }, el('label', { for: this.text.id }, 'Text the agent inserts'), this.text, this.textError),
        el('div', { class: 'qf-inline' }, this.saveButton, cancel),
      )
    );

    this.root = el(
      'div',
      { class: 'qcanned' },
      el('p', { class: 'qf-hint' }, 'The agents of this queue insert these into a reply (the Canned button, or / in the reply). Each change here is saved at once, apart from the queue’s Save.'),
      this.list,
      this.addButton,
      this.form,
      this.status,
    );

    this.addButton.addEventListener('click', () => this.edit(null));
    cancel.addEventListener('click', () => this.closeForm());
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.save();
    });
  }

  /**
   * Shows queue key's responses; a queue not saved yet has none to show.
   * @param {string} key
   * @param {boolean} saved
   */
  async show(key, saved) {
    this.key = key;
    this.root.hidden = !saved;
    this.closeForm();
    if (!saved) return;
    try {
      const got = /** @type {{canned: Canned[]}} */ (await api('GET', this.path()));
      if (key !== this.key) return;
      this.draw(got.canned);
    } catch (err) {
      setText(this.status, `The canned responses could not be read: ${errorText(err)}`);
    }
  }

  /** @param {number=} id */
  path(id) {
    return `/api/admin/queues/${encodeURIComponent(this.key)}/canned${id ? `/${id}` : ''}`;
  }

  /** @param {Canned[]} items */
  draw(items) {
    this.items = items;
    this.list.replaceChildren(...items.map((c, i) => this.row(c, i)));
    this.list.hidden = items.length === 0;
    if (items.length === 0) setText(this.status, 'No canned responses yet.');
  }

  /**
   * @param {Canned} c
   * @param {number} i
   */
  row(c, i) {
    const up = /** @type {HTMLButtonElement} */ (el('button', { type: 'button', class: 'button qf-small', 'aria-label': `Move “${c.title}” up` }, '↑'));
    const down = /** @type {HTMLButtonElement} */ (el('button', { type: 'button', class: 'button qf-small', 'aria-label': `Move “${c.title}” down` }, '↓'));
    const edit = el('button', { type: 'button', class: 'button qf-small', 'aria-label': `Edit “${c.title}”` }, 'Edit');
    const del = el('button', { type: 'button', class: 'button qf-small', 'aria-label': `Delete “${c.title}”` }, 'Delete');
    up.disabled = i === 0;
    down.disabled = i === this.items.length - 1;
    const actions = el('div', { class: 'qf-inline' }, up, down, edit, del);
    const li = el(
      'li',
      { class: 'qf-field', 'data-canned': c.id },
      el('strong', { class: 'qcanned-title' }, c.title),
      el('p', { class: 'qf-hint qcanned-text' }, c.text.length > 160 ? c.text.slice(0, 160) + '…' : c.text),
      actions,
    );
    up.addEventListener('click', () => void this.move(i, -1));
    down.addEventListener('click', () => void this.move(i, 1));
    edit.addEventListener('click', () => this.edit(c));
    del.addEventListener('click', () => {
      const yes = el('button', { type: 'button', class: 'button button-danger qf-small' }, 'Delete');
      const no = el('button', { type: 'button', class: 'button qf-small' }, 'Keep');
      const ask = el('div', { class: 'qf-inline', role: 'group', 'aria-label': 'Confirm delete' }, el('span', {}, `Delete “${c.title}”?`), yes, no);
      actions.replaceWith(ask);
      no.addEventListener('click', () => {
        ask.replaceWith(actions);
        del.focus();
      });
      yes.addEventListener('click', () => void this.remove(c));
      no.focus();
    });
    return li;
  }

  /** @param {Canned | null} c null: a new one */
  edit(c) {
    this.editing = c ? c.id : 0;
    setText(this.formTitle, c ? `Edit “${c.title}”` : 'New canned response');
    this.title.value = c ? c.title : '';
    this.text.value = c ? c.text : '';
    this.clearErrors();
    this.form.hidden = false;
    this.addButton.hidden = true;
    this.title.focus();
  }

  closeForm() {
    this.form.hidden = true;
    this.addButton.hidden = false;
    this.editing = 0;
    this.clearErrors();
  }

  clearErrors() {
    for (const [input, error] of /** @type {const} */ ([
      [this.title, this.titleError],
      [this.text, this.textError],
    ])) {
      input.removeAttribute('aria-invalid');
      error.hidden = true;
    }
  }

  async save() {
    this.clearErrors();
    const body = { title: this.title.value, text: this.text.value };
    this.saveButton.disabled = true;
    try {
      const saved = /** @type {Canned} */ (await api(this.editing ? 'PUT' : 'POST', this.path(this.editing || undefined), body));
      const wasNew = !this.editing;
      this.closeForm();
      await this.show(this.key, true);
      setText(this.status, `${wasNew ? 'Added' : 'Saved'} “${saved.title}”.`);
      this.addButton.focus();
    } catch (err) {
      if (err instanceof ApiError && (err.field === 'title' || err.field === 'text')) this.fail(err.field, err.message);
      else setText(this.status, `Not saved: ${errorText(err)}`);
    } finally {
      this.saveButton.disabled = false;
    }
  }

  /**
   * Shows message at the field and focuses it.
   * @param {'title' | 'text'} field
   * @param {string} message
   */
  fail(field, message) {
    const [input, error] = field === 'title' ? [this.title, this.titleError] : [this.text, this.textError];
    setText(error, message);
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }

  /** @param {Canned} c */
  async remove(c) {
    try {
      await api('DELETE', this.path(c.id));
      if (this.editing === c.id) this.closeForm();
      await this.show(this.key, true);
      setText(this.status, `Deleted “${c.title}”.`);
      this.addButton.focus();
    } catch (err) {
      setText(this.status, `Not deleted: ${errorText(err)}`);
    }
  }

  /**
   * Moves the i-th response by step (-1 up, 1 down).
   * @param {number} i
   * @param {number} step
   */
  async move(i, step) {
    const ids = this.items.map((c) => c.id);
    const j = i + step;
    if (j < 0 || j >= ids.length) return;
    [ids[i], ids[j]] = [ids[j], ids[i]];
    try {
      const got = /** @type {{canned: Canned[]}} */ (await api('PUT', `${this.path()}/order`, { ids }));
      this.draw(got.canned);
      const moved = this.items[j];
      setText(this.status, `Moved “${moved.title}” to place ${j + 1}.`);
      const button = /** @type {HTMLButtonElement | null} */ (this.list.children[j]?.querySelectorAll('button')[step < 0 ? 0 : 1] ?? null);
      if (button && !button.disabled) button.focus();
    } catch (err) {
      setText(this.status, `Not moved: ${errorText(err)}`);
    }
  }
}
