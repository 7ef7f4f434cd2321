// @ts-check
// The widget page in preview mode (/admin/widget-preview), for the admin
// console's live preview (admin/preview.js). It takes the queue's
// settings from the console — the parent frame, on Parley's own origin —
// by postMessage instead of GET /api/widget/{key}, and shows the window
// open with the pre-chat form, or, when the settings say closed, the
// offline panel. It never gets a visitor token nor connects, and every
// form on it is inert, so nothing typed into it reaches the server.

import { byId, setText } from '../lib/dom.js';
import { OfflinePanel } from './offline.js';

/**
 * @typedef {import('./api.js').Settings & {open?: boolean, offline_message?: string, offline_form?: boolean}} PreviewSettings
 */

/**
 * Runs the preview: apply is the widget's own way of showing settings.
 * @param {(s: PreviewSettings) => void} apply
 */
export function runPreview(apply) {
  const win = byId('parley-window');
  const status = byId('parley-status');
  const form = byId('parley-prechat');
  const formError = byId('parley-form-error');
  const offline = new OfflinePanel(byId('parley-offline'));
  byId('parley-open').hidden = true;
  win.hidden = false;
  setText(status, 'Waiting for the settings…');
  // Capture: before any handler of the form itself.
  document.addEventListener(
    'submit',
    (e) => {
      e.preventDefault();
      e.stopImmediatePropagation();
      setText(formError, 'This is a preview: chats start on your site.');
      formError.hidden = false;
    },
    true,
  );
  window.addEventListener('message', (e) => {
    if (e.origin !== location.origin || e.source !== window.parent) return;
    const s = /** @type {PreviewSettings | undefined} */ (e.data?.parley === 'preview' ? e.data.settings : undefined);
    if (!s || typeof s !== 'object') return;
    apply(s);
    status.hidden = true;
    formError.hidden = true;
    if (s.open === false) {
      form.hidden = true;
      offline.show({ message: s.offline_message ?? '', form: s.offline_form === true });
    } else {
      offline.hide();
      form.hidden = false;
    }
  });
  if (window.parent !== window) window.parent.postMessage({ parley: 'preview', ready: true }, location.origin);
}
