// @ts-check
// The emoji picker of a compose box (the desk's and the widget's): a button
// that opens a small panel of emoji (lib/emoji-data.js) by category. The
// arrow keys move between them, Home and End go to the first and last,
// Enter or a click inserts one at the caret of the box and puts the focus
// back in the box, Escape or a click outside closes the panel.
//
// Usage:
//
//   const picker = new EmojiPicker(textarea);
//   someBar.append(picker.root);

import { el } from './dom.js';
import { EMOJI } from './emoji-data.js';

let panels = 0;

export class EmojiPicker {
  /**
   * @param {HTMLTextAreaElement} box the text box emoji go into
   * @param {{align?: 'start' | 'end'}} [options] which edge of the button the panel lines up with
   */
  constructor(box, options = {}) {
    this.box = box;
    const id = `emoji-panel-${++panels}`;
    this.button = el(
      'button',
      { type: 'button', class: 'emoji-button', 'aria-label': 'Emoji', title: 'Emoji', 'aria-haspopup': 'dialog', 'aria-expanded': 'false', 'aria-controls': id },
      el('span', { 'aria-hidden': 'true' }, '🙂'),
    );
    /** @type {HTMLButtonElement[]} every emoji, in order, while the panel is open */
    this.cells = [];
    this.id = id;
    // The emoji exist only while the panel is open: closed, the page holds
    // none of their names (a label "e-mail" or "key" elsewhere stays unique).
    this.panel = el('div', { class: 'emoji-panel', id, role: 'dialog', 'aria-label': 'Emoji', hidden: true });
    this.root = el('span', { class: `emoji-picker emoji-picker-${options.align ?? 'start'}` }, this.button, this.panel);
    /** the emoji with the focus (roving tabindex) */
    this.current = 0;

    this.button.addEventListener('click', () => (this.panel.hidden ? this.open() : this.close(true)));
    this.panel.addEventListener('click', (e) => {
      const cell = e.target instanceof Element ? e.target.closest('.emoji-cell') : null;
      if (cell instanceof HTMLElement && cell.dataset.emoji) this.insert(cell.dataset.emoji);
    });
    this.panel.addEventListener('keydown', (e) => this.key(e));
    this.root.addEventListener('focusout', (e) => {
      const to = e.relatedTarget;
      if (to instanceof Node && !this.root.contains(to)) this.close(false);
    });
    /** @param {PointerEvent} e */
    this.outside = (e) => {
      if (e.target instanceof Node && !this.root.contains(e.target)) this.close(false);
    };
  }

  /** Opens the panel with the focus on the first emoji. */
  open() {
    this.panel.replaceChildren(...this.groups());
    this.panel.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    document.addEventListener('pointerdown', this.outside, true);
    this.current = 0;
    this.focusCell(0);
  }

  /**
   * The categories, each a heading and a group of emoji buttons.
   * @returns {HTMLElement[]}
   */
  groups() {
    this.cells = [];
    return EMOJI.map((cat, i) => {
      const head = `${this.id}-cat-${i}`;
      const cells = cat.emoji.map((e) => {
        const cell = el('button', { type: 'button', class: 'emoji-cell', tabindex: -1, 'aria-label': e.name, title: e.name, 'data-emoji': e.char }, e.char);
        this.cells.push(cell);
        return cell;
      });
      return el('div', { class: 'emoji-category' }, el('p', { class: 'emoji-category-name', id: head }, cat.name), el('div', { class: 'emoji-grid', role: 'group', 'aria-labelledby': head }, ...cells));
    });
  }

  /**
   * Closes the panel.
   * @param {boolean} refocus whether the focus goes back to the text box
   */
  close(refocus) {
    if (this.panel.hidden) return;
    this.panel.hidden = true;
    this.panel.replaceChildren();
    this.cells = [];
    this.button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', this.outside, true);
    if (refocus) this.box.focus();
  }

  /**
   * Puts the emoji in place of the box's selection (at the caret), the
   * caret after it, and tells the box's listeners (length counter, typing).
   * @param {string} char
   */
  insert(char) {
    const box = this.box;
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? start;
    this.close(false);
    box.focus();
    box.setRangeText(char, start, end, 'end');
    box.dispatchEvent(new Event('input', { bubbles: true }));
  }

  /**
   * Moves the focus to a cell and makes it the one Tab returns to.
   * @param {number} i
   */
  focusCell(i) {
    const n = Math.max(0, Math.min(this.cells.length - 1, i));
    if (this.cells[this.current]) this.cells[this.current].tabIndex = -1;
    this.current = n;
    this.cells[n].tabIndex = 0;
    this.cells[n].focus();
  }

  /** @param {KeyboardEvent} e */
  key(e) {
    const i = this.cells.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
    let to = -1;
    switch (e.key) {
      case 'Escape':
        e.preventDefault();
        e.stopPropagation();
        this.close(true);
        return;
      case 'ArrowRight':
        to = i + 1;
        break;
      case 'ArrowLeft':
        to = i - 1;
        break;
      case 'ArrowDown':
        to = this.vertical(i, 1);
        break;
      case 'ArrowUp':
        to = this.vertical(i, -1);
        break;
      case 'Home':
        to = 0;
        break;
      case 'End':
        to = this.cells.length - 1;
        break;
      default:
        return;
    }
    e.preventDefault();
    if (i < 0) to = this.current;
    this.focusCell(to);
  }

  /**
   * The cell in the next row down (dir 1) or up (-1) nearest the column of
   * cell i, as laid out: categories start new rows, so counting columns
   * would go astray.
   * @param {number} i
   * @param {1 | -1} dir
   */
  vertical(i, dir) {
    const here = this.cells[i].getBoundingClientRect();
    const rows = this.cells.map((c) => c.getBoundingClientRect());
    const tops = rows.map((r) => r.top).filter((t) => (dir > 0 ? t > here.top + 1 : t < here.top - 1));
    if (tops.length === 0) return i;
    const row = dir > 0 ? Math.min(...tops) : Math.max(...tops);
    let best = i;
    let gap = Infinity;
    rows.forEach((r, j) => {
      if (Math.abs(r.top - row) > 1) return;
      const d = Math.abs(r.left - here.left);
      if (d < gap) [best, gap] = [j, d];
    });
    return best;
  }
}
