// @ts-check
// Verified identity as staff see it (docs/protocol.md, "Verified
// identity"): a lock mark, whose accessible name is "verified", beside
// each of the customer's attributes the company's backend signed (the
// name, the e-mail); nothing beside the ones the customer typed. Drawn in
// the chat header and on the offer card of the desk, and in the facts of
// the supervisor's chat pane.

import { el } from '../lib/dom.js';

/** @typedef {import('../lib/types.js').Conversation} Conversation */

const SVG = 'http://www.w3.org/2000/svg';

/**
 * A lock mark: an icon with the accessible name "verified", and no text
 * (the element it sits in keeps its text).
 * @param {string} title what a pointer's hover shows
 */
export function lockMark(title) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '14');
  svg.setAttribute('height', '14');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('fill', 'currentColor');
  path.setAttribute('d', 'M8 1a3.5 3.5 0 0 0-3.5 3.5V7H4a1 1 0 0 0-1 1v6a1 1 0 0 0 1 1h8a1 1 0 0 0 1-1V8a1 1 0 0 0-1-1h-.5V4.5A3.5 3.5 0 0 0 8 1Zm-2 6V4.5a2 2 0 1 1 4 0V7H6Z');
  svg.append(path);
  return el('span', { class: 'verified-mark', role: 'img', 'aria-label': 'verified', title }, svg);
}

/**
 * Puts the lock mark after the name and the e-mail a chat's customer had
 * signed, and takes away any mark drawn before.
 * @param {Conversation} c
 * @param {Element | null} name the element showing the customer's name
 * @param {Element | null} email the element showing their e-mail
 */
export function markVerified(c, name, email) {
  const v = c.customer.verified;
  for (const [node, signed] of /** @type {[Element | null, boolean][]} */ ([
    [name, v?.name === true],
    [email, v?.email === true],
  ])) {
    if (!node) continue;
    node.querySelector(':scope > .verified-mark')?.remove();
    if (signed) node.append(lockMark(verifiedTitle(c)));
  }
}

/**
 * The offer card's name and e-mail, marked.
 * @param {HTMLElement} card
 * @param {Conversation} c
 */
export function markOffer(card, c) {
  markVerified(c, card.querySelector('.offer-name'), card.querySelector('.offer-email'));
}

/**
 * A fact for the supervisor's chat pane: which attributes were verified,
 * and the customer's id in the company's systems; null when none.
 * @param {Conversation} c
 * @returns {[HTMLElement, HTMLElement] | null} a dt and its dd
 */
export function verifiedFact(c) {
  const v = c.customer.verified;
  if (!v) return null;
  const what = [v.id ? `id ${c.customer.external_id ?? ''}` : '', v.name ? 'name' : '', v.email ? 'e-mail' : ''].filter(Boolean);
  return [el('dt', {}, 'Identity'), el('dd', { 'data-fact': 'identity' }, lockMark(verifiedTitle(c)), ` Verified: ${what.join(', ')}`)];
}

/** @param {Conversation} c */
function verifiedTitle(c) {
  return c.customer.external_id ? `Verified by the company’s site (customer id ${c.customer.external_id})` : 'Verified by the company’s site';
}
