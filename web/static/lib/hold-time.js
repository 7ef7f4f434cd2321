// @ts-check
// The customer's hold time, queued → accepted, as it stands at the top of
// a conversation in the desk, the supervisor's chat pane and the history
// transcript.

import { duration } from './util.js';

/**
 * "Waited 1:23 before an agent answered", or "" before an agent did.
 * @param {{queued_at: string, accepted_at: string | null}} c
 */
export function holdText(c) {
  if (!c.accepted_at) return '';
  return `Waited ${duration(Date.parse(c.accepted_at) - Date.parse(c.queued_at))} before an agent answered`;
}
