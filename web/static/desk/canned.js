// @ts-check
// The compose area's canned responses (docs/protocol.md, "Canned
// responses"): the "Canned" button opens a list of the chat's queue's
// responses with a search box; typing "/" at the start of the reply opens
// the same list filtered by what follows ("/ref" finds "Refund policy").
// Arrows and Enter, or a click, put the response's text in the reply (in
// place of the "/query"), where the agent may edit it before sending;
// Escape closes. The list is asked for (canned.list) at each opening, so
// an admin's change shows at the next one.

import { el, setText } from '../lib/dom.js';
import { errorText } from '../lib/util.js';

/**
 * @typedef {{id: number, queue_id: number, title: string, text: string}} CannedItem
 */

export class CannedMenu {
  /**
   * @param {object} deps
   * @param {import('../lib/parley.js').Connection} deps.conn
   * @param {HTMLTextAreaElement} deps.compose the reply
   * @param {HTMLFormElement} deps.form the compose form; the button goes in its .compose-bar, before the hint
   * @param {() => number | null} deps.queueOf the active chat's queue id
   */
  constructor(deps) {
    this.conn = deps.conn;
    this.compose = deps.compose;
    this.form = deps.form;
    this.queueOf = deps.queueOf;
    /** @type {'closed' | 'button' | 'slash'} how the menu was opened */
    this.mode = 'closed';
    /** @type {CannedItem[]} the chat's queue's responses, as last asked */
    this.items = [];
    /** @type {CannedItem[]} those the query finds, as listed */
    this.shown = [];
    this.active = 0;
    /** the "/" the agent dismissed with Escape: not opened again until the reply no longer starts with it */
    this.dismissed = false;
    this.asked = 0;

    this.button = /** @type {HTMLButtonElement} */ (
      el('button', { type: 'button', class: 'canned-button', id: 'canned-button', 'aria-haspopup': 'listbox', 'aria-expanded': 'false', 'aria-controls': 'canned-menu', title: 'Insert a canned response (or type / in the reply)' }, 'Canned')
    );
    this.search = /** @type {HTMLInputElement} */ (
      el('input', { type: 'search', id: 'canned-search', autocomplete: 'off', role: 'combobox', 'aria-controls': 'canned-list', 'aria-expanded': 'true', 'aria-autocomplete': 'list', placeholder: 'Search canned responses' })
    );
    this.searchField = el('div', { class: 'canned-search' }, el('label', { for: this.search.id, class: 'visually-hidden' }, 'Search canned responses'), this.search);
    this.list = el('ul', { class: 'canned-list', id: 'canned-list', role: 'listbox', 'aria-label': 'Canned responses' });
    this.status = el('p', { class: 'canned-status', id: 'canned-status', role: 'status', 'aria-live': 'polite' });
    this.menu = el('div', { class: 'canned-menu', id: 'canned-menu', hidden: true }, this.searchField, this.list, this.status);

    // After the eye (the reply's next control stays the eye), before the hint.
    const bar = this.form.querySelector('.compose-bar');
    bar?.insertBefore(this.button, bar.querySelector('.compose-hint'));
    this.form.prepend(this.menu);
    this.wire();
  }

  wire() {
    this.button.addEventListener('click', () => {
      if (this.mode === 'button') this.close(true);
      else void this.open('button');
    });
    this.search.addEventListener('input', () => this.filter(this.search.value));
    this.search.addEventListener('keydown', (e) => this.key(e));
    // Before the desk's own keydown (Enter sends): capture on the form.
    this.form.addEventListener(
      'keydown',
      (e) => {
        if (e.target === this.compose && this.mode === 'slash') this.key(e);
      },
      true,
    );
    this.compose.addEventListener('input', () => this.slash());
    this.compose.addEventListener('blur', () => {
      if (this.mode === 'slash') this.close(false);
    });
    this.menu.addEventListener('focusout', (e) => {
      const to = /** @type {Node | null} */ (e.relatedTarget);
      if (this.mode === 'button' && to && !this.menu.contains(to) && to !== this.button) this.close(false);
    });
    // A click on an option keeps the focus where it is (the reply, in "/" mode).
    this.list.addEventListener('mousedown', (e) => e.preventDefault());
    this.list.addEventListener('click', (e) => {
      const li = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest('[role="option"]'));
      if (li) this.pick(Number(li.dataset.index));
    });
  }

  /** The reply changed: "/query" at its start opens or filters the list; anything else closes a "/" list. */
  slash() {
    const m = /^\/([^\n]*)$/.exec(this.compose.value);
    if (this.compose.value.length <= 1) this.dismissed = false; // a "/" typed afresh (the box may have been emptied by a send)
    if (!m) {
      this.dismissed = false;
      if (this.mode === 'slash') this.close(false);
      return;
    }
    if (this.dismissed || this.mode === 'button') return;
    if (this.mode === 'slash') this.filter(m[1]);
    else void this.open('slash');
  }

  /**
   * Opens the list, asking for it afresh.
   * @param {'button' | 'slash'} mode
   */
  async open(mode) {
    const queue = this.queueOf();
    if (queue === null) return;
    this.mode = mode;
    this.menu.hidden = false;
    this.searchField.hidden = mode !== 'button';
    this.button.setAttribute('aria-expanded', 'true');
    this.search.value = '';
    this.items = [];
    this.list.replaceChildren();
    setText(this.status, 'Loading canned responses…');
    if (mode === 'button') this.search.focus();
    else this.compose.setAttribute('aria-controls', this.list.id);
    const asked = ++this.asked;
    try {
      const got = /** @type {{canned: CannedItem[]}} */ (await this.conn.request('canned.list', {}));
      if (asked !== this.asked) return; // closed, or opened again, meanwhile
      this.items = got.canned.filter((c) => c.queue_id === queue);
      this.filter(this.query());
    } catch (err) {
      if (asked === this.asked) setText(this.status, `Canned responses could not be loaded: ${errorText(err)}`);
    }
  }

  /** What the list is filtered by: the search box, or what follows the "/". */
  query() {
    if (this.mode === 'button') return this.search.value;
    return /^\/([^\n]*)$/.exec(this.compose.value)?.[1] ?? '';
  }

  /**
   * Lists the responses that query finds: titles that match first.
   * @param {string} query
   */
  filter(query) {
    const q = query.trim().toLowerCase();
    const byTitle = this.items.filter((c) => c.title.toLowerCase().includes(q));
    const byText = this.items.filter((c) => !byTitle.includes(c) && c.text.toLowerCase().includes(q));
    this.shown = [...byTitle, ...byText];
    this.active = 0;
    this.list.replaceChildren(
      ...this.shown.map((c, i) =>
        el(
          'li',
          { role: 'option', id: `canned-option-${c.id}`, class: 'canned-option', 'data-index': i, 'aria-selected': 'false' },
          el('span', { class: 'canned-title' }, c.title),
          el('span', { class: 'canned-text' }, c.text.length > 120 ? c.text.slice(0, 120) + '…' : c.text),
        ),
      ),
    );
    if (this.items.length === 0) setText(this.status, 'This queue has no canned responses.');
    else if (this.shown.length === 0) setText(this.status, `No canned response matches “${query.trim()}”.`);
    else setText(this.status, `${this.shown.length} canned response${this.shown.length === 1 ? '' : 's'}. Up and down to choose, Enter to insert.`);
    this.mark();
  }

  /** Marks the active option. */
  mark() {
    const options = [...this.list.children];
    options.forEach((o, i) => o.setAttribute('aria-selected', String(i === this.active)));
    const on = options[this.active];
    const owner = this.mode === 'button' ? this.search : this.compose;
    if (on) {
      owner.setAttribute('aria-activedescendant', on.id);
      on.scrollIntoView({ block: 'nearest' });
    } else owner.removeAttribute('aria-activedescendant');
  }

  /** @param {KeyboardEvent} e */
  key(e) {
    if (e.isComposing) return;
    const stop = () => {
      e.preventDefault();
      e.stopPropagation();
    };
    switch (e.key) {
      case 'ArrowDown':
      case 'ArrowUp':
        if (!this.shown.length) return;
        stop();
        this.active = (this.active + (e.key === 'ArrowDown' ? 1 : -1) + this.shown.length) % this.shown.length;
        this.mark();
        return;
      case 'Enter':
        if (e.shiftKey) return;
        stop();
        if (this.shown.length) this.pick(this.active);
        return;
      case 'Escape':
        stop();
        if (this.mode === 'slash') this.dismissed = true;
        this.close(true);
        return;
    }
  }

  /**
   * Puts the i-th listed response in the reply: in place of the "/query",
   * or at the caret; the agent may edit it before sending.
   * @param {number} i
   */
  pick(i) {
    const c = this.shown[i];
    if (!c) return;
    const box = this.compose;
    let start = box.selectionStart ?? box.value.length;
    let end = box.selectionEnd ?? start;
    if (this.mode === 'slash') [start, end] = [0, box.value.length];
    box.value = box.value.slice(0, start) + c.text + box.value.slice(end);
    this.close(false);
    box.focus();
    box.setSelectionRange(start + c.text.length, start + c.text.length);
    this.dismissed = c.text.startsWith('/'); // such a text does not open the list again
    box.dispatchEvent(new Event('input', { bubbles: true })); // the draft, the counter, typing
    setText(this.status, `Inserted “${c.title}”.`);
  }

  /**
   * Closes the list.
   * @param {boolean} refocus put the focus back in the reply
   */
  close(refocus) {
    if (this.mode === 'closed') return;
    this.mode = 'closed';
    this.asked++;
    this.menu.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    this.compose.removeAttribute('aria-activedescendant');
    this.compose.removeAttribute('aria-controls');
    if (refocus) this.compose.focus();
  }
}
