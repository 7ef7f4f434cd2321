// @ts-check
// A modal dialog with a form (lib/dialog.css): a title, a line of text,
// fields, an error line, a dismiss button and a confirm button. Its
// onSubmit runs on confirm: a throw shows the error and keeps the dialog
// open; the answer "stay" keeps it open after success; anything else
// closes it. The supervisor console's agent actions and the admin
// console's account dialogs use it.

import { el, setText } from './dom.js';
import { errorText } from './util.js';

/**
 * @typedef {object} FormDialogOptions
 * @property {string} title
 * @property {string} text a line under the title ('' for none)
 * @property {string} confirm the confirm button's label
 * @property {HTMLElement[]} fields
 * @property {boolean=} danger the confirm button is a dangerous one (red)
 * @property {string=} dismiss the other button's label (default Cancel)
 * @property {'confirm' | 'dismiss'=} focus what has the focus when shown with none given (default confirm)
 * @property {string=} className more classes of the dialog element
 * @property {((err: unknown) => boolean)=} shownElsewhere whether a thrown error already shows (at a field, or by leaving the page), so the error line stays empty
 *
 * @typedef {object} FormDialog
 * @property {HTMLDialogElement} dialog
 * @property {() => Promise<string | void>} onSubmit
 * @property {(message: string) => void} fail shows message on the error line
 * @property {(focus?: HTMLElement | null) => void} show opens it, modal, focusing focus
 */

let made = 0;

/**
 * @param {FormDialogOptions} o
 * @returns {FormDialog}
 */
export function formDialog(o) {
  const titleId = `form-dialog-${++made}`;
  const error = el('p', { class: 'form-error', role: 'alert', hidden: true });
  const dismiss = el('button', { class: 'button button-quiet', type: 'button' }, o.dismiss ?? 'Cancel');
  const ok = /** @type {HTMLButtonElement} */ (
    el('button', { class: `button ${o.danger ? 'button-danger' : 'button-primary'}`, type: 'submit' }, o.confirm)
  );
  const form = el(
    'form',
    { method: 'dialog', class: 'dialog-form', novalidate: true },
    el('h2', { class: 'dialog-title', id: titleId }, o.title),
    o.text ? el('p', { class: 'dialog-text' }, o.text) : null,
    ...o.fields,
    error,
    el('div', { class: 'dialog-buttons' }, dismiss, ok),
  );
  const node = /** @type {HTMLDialogElement} */ (
    el('dialog', { class: `dialog ${o.className ?? ''}`.trim(), 'aria-labelledby': titleId }, form)
  );
  /** @type {FormDialog} */
  const d = {
    dialog: node,
    onSubmit: async () => {},
    fail: (message) => {
      setText(error, message);
      error.hidden = false;
    },
    show: (focus) => {
      document.body.append(node);
      node.showModal();
      (focus ?? (o.focus === 'dismiss' ? dismiss : ok)).focus();
    },
  };
  dismiss.addEventListener('click', () => node.close('cancel'));
  node.addEventListener('close', () => node.remove());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (ok.disabled) return;
    ok.disabled = true;
    error.hidden = true;
    try {
      if ((await d.onSubmit()) !== 'stay') node.close('done');
    } catch (err) {
      if (!o.shownElsewhere?.(err)) d.fail(errorText(err));
    } finally {
      ok.disabled = false;
    }
  });
  return d;
}
