// @ts-check
// The desk's attachments: a picker button in the compose bar and files
// dropped onto the compose area, uploaded into the chat shown
// (lib/files.js), sent with the agent's next message there.

import { Attachments, filePicker } from '../lib/files.js';

/**
 * Adds the attachments to the compose form.
 * @param {HTMLFormElement} form the compose area
 * @param {() => number | null} conversation the open chat shown, or null
 * @returns {Attachments}
 */
export function deskAttachments(form, conversation) {
  const attachments = new Attachments({ conversation, token: () => null });
  const picker = filePicker(form, attachments, () => conversation() !== null);
  form.querySelector('textarea')?.after(attachments.list);
  // After the eye: Tab from the reply reaches the Private toggle first.
  const eye = form.querySelector('#private-toggle');
  if (eye) eye.after(picker);
  else form.querySelector('.compose-bar')?.prepend(picker);
  return attachments;
}
