// @ts-check
// The widget's files: a picker button and drops onto the compose area,
// uploaded with the visitor token into the customer's chat (lib/files.js),
// sent with the next message; and a message's files shown below it.

import { Attachments, filePicker, fileFetcher, renderFiles } from '../lib/files.js';

/** @type {string | null} the visitor token, set when the widget connects */
let token = null;

/** The visitor token, for the voice recorder's uploads. */
export const fileToken = () => token;

/** @param {string} t */
export function setFileToken(t) {
  token = t;
}

const fetcher = fileFetcher(() => token);

/**
 * Adds a message's files below its bubble.
 * @param {HTMLElement | undefined} node the message
 * @param {import('../lib/files.js').FileRef[] | undefined} files
 */
export function showFiles(node, files) {
  if (!node || !files?.length || node.querySelector('.msg-files')) return;
  const list = renderFiles(files, fetcher);
  if (list) node.querySelector('.bubble')?.after(list);
}

/**
 * Adds the attachments to the compose form.
 * @param {HTMLFormElement} form
 * @param {() => number | null} conversation the open chat, or null
 * @param {() => number} maxBytes the queue's file_max_bytes
 * @returns {Attachments}
 */
export function widgetAttachments(form, conversation, maxBytes) {
  const attachments = new Attachments({ conversation, token: () => token, maxBytes });
  const picker = filePicker(form, attachments, () => conversation() !== null);
  form.before(attachments.list);
  form.prepend(picker);
  return attachments;
}
