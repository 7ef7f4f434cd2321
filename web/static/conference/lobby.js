// @ts-check
// The conference start page: "Start a conference" (signed-in users: a
// name, colleagues to invite, picked several at once) and "Join a
// conference" by room number (everyone; guests also give their name).
// It only collects and checks input; conference.js does the rest.

import { byId, el, setText } from '../lib/dom.js';
import { colleagues } from './api.js';
import { digits } from './address.js';

/**
 * @typedef {import('./api.js').Colleague} Colleague
 * @typedef {{name: string, invite: number[]}} CreateRequest
 * @typedef {{number: string, name: string}} JoinRequest
 */

const FILTER_FROM = 8; // colleagues shown before a filter box helps

export class Lobby {
  /**
   * @param {object} handlers
   * @param {(req: CreateRequest) => Promise<void>} handlers.create rejects with what to show
   * @param {(req: JoinRequest) => Promise<void>} handlers.join rejects with what to show
   */
  constructor({ create, join }) {
    this.root = byId('lobby');
    this.createCard = byId('create-card');
    this.createForm = /** @type {HTMLFormElement} */ (byId('create-form'));
    this.createName = /** @type {HTMLInputElement} */ (byId('create-name'));
    this.createButton = /** @type {HTMLButtonElement} */ (byId('create-room'));
    this.createError = byId('create-error');
    this.filter = /** @type {HTMLInputElement} */ (byId('invite-filter'));
    this.list = byId('invite-list');
    this.empty = byId('invite-empty');
    this.count = byId('invite-count');

    this.joinForm = /** @type {HTMLFormElement} */ (byId('join-form'));
    this.joinTitle = byId('join-title');
    this.nameField = byId('join-name-field');
    this.joinName = /** @type {HTMLInputElement} */ (byId('join-name'));
    this.joinNumber = /** @type {HTMLInputElement} */ (byId('join-number'));
    this.joinButton = /** @type {HTMLButtonElement} */ (byId('join-room'));
    this.joinError = byId('join-error');
    this.signIn = byId('join-sign-in');

    this.signedIn = false;
    /** @type {number | undefined} the signed-in user, left out of the colleagues */
    this.selfId = undefined;
    /** @type {Colleague[]} */
    this.colleagues = [];
    this.loaded = false;

    this.createForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      hide(this.createError);
      busy(this.createButton, true, 'Creating…');
      try {
        await create({ name: this.createName.value.trim(), invite: this.invited() });
      } catch (err) {
        show(this.createError, message(err));
      } finally {
        busy(this.createButton, false, 'Create room');
      }
    });

    this.joinForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      hide(this.joinError);
      const number = digits(this.joinNumber.value);
      const name = this.joinName.value.trim();
      if (!this.signedIn && !name) {
        show(this.joinError, 'Enter your name, as the others will see it.');
        this.joinName.focus();
        return;
      }
      if (!number) {
        show(this.joinError, 'Enter the room number you were given.');
        this.joinNumber.focus();
        return;
      }
      busy(this.joinButton, true, 'Joining…');
      try {
        await join({ number, name });
      } catch (err) {
        show(this.joinError, message(err));
        this.joinNumber.select();
      } finally {
        busy(this.joinButton, false, 'Join existing room');
      }
    });
    this.joinForm.addEventListener('input', () => hide(this.joinError));
    this.createForm.addEventListener('input', () => hide(this.createError));

    this.filter.addEventListener('input', () => this.applyFilter());
    this.list.addEventListener('change', () => this.updateCount());
  }

  /**
   * Shows the start page, for a signed-in user or a guest.
   * @param {{signedIn: boolean, selfId?: number, guestName?: string, number?: string}} who
   */
  open({ signedIn, selfId, guestName = '', number = '' }) {
    this.signedIn = signedIn;
    this.selfId = selfId;
    this.createCard.hidden = !signedIn;
    this.nameField.hidden = signedIn;
    this.signIn.hidden = signedIn;
    setText(this.joinTitle, signedIn ? 'Or join a room' : 'Join a conference');
    this.joinTitle.classList.toggle('conf-title-small', signedIn);
    if (!signedIn && guestName && !this.joinName.value) this.joinName.value = guestName;
    if (number) this.joinNumber.value = number;
    hide(this.createError);
    hide(this.joinError);
    this.root.hidden = false;
    if (signedIn && !this.loaded) void this.loadColleagues();
    (signedIn ? this.createName : this.joinName.value ? this.joinNumber : this.joinName).focus();
  }

  close() {
    this.root.hidden = true;
  }

  async loadColleagues() {
    setText(this.empty, 'Loading colleagues…');
    this.empty.hidden = false;
    try {
      this.colleagues = await colleagues();
      this.loaded = true;
    } catch (err) {
      setText(this.empty, `Could not load your colleagues: ${message(err)}`);
      const retry = el('button', { class: 'button button-quiet button-small', type: 'button' }, 'Try again');
      retry.addEventListener('click', () => void this.loadColleagues());
      this.empty.append(' ', retry);
      return;
    }
    this.renderColleagues();
  }

  renderColleagues() {
    const sorted = this.colleagues.filter((c) => c.id !== this.selfId).sort(
      (a, b) => Number(b.online) - Number(a.online) || a.name.localeCompare(b.name),
    );
    this.list.replaceChildren(
      ...sorted.map((c) =>
        el(
          'li',
          { class: 'invite-item', 'data-name': c.name.toLowerCase() },
          el(
            'label',
            { class: 'invite-choice' },
            el('input', { type: 'checkbox', name: 'invite', value: String(c.id) }),
            el('span', { class: 'invite-name' }, c.name),
            el('span', { class: 'invite-role' }, c.role),
            el(
              'span',
              { class: 'invite-presence', 'data-online': String(Boolean(c.online)) },
              c.online ? 'online' : 'offline',
            ),
          ),
        ),
      ),
    );
    this.filter.hidden = sorted.length < FILTER_FROM;
    this.empty.hidden = sorted.length > 0;
    setText(this.empty, 'No colleagues to invite. You can share the room number or link instead.');
    this.updateCount();
  }

  applyFilter() {
    const q = this.filter.value.trim().toLowerCase();
    let shown = 0;
    for (const item of /** @type {NodeListOf<HTMLElement>} */ (this.list.querySelectorAll('.invite-item'))) {
      const input = /** @type {HTMLInputElement | null} */ (item.querySelector('input'));
      // What is ticked stays in sight.
      const match = !q || (item.dataset.name ?? '').includes(q) || Boolean(input?.checked);
      item.hidden = !match;
      if (match) shown++;
    }
    this.empty.hidden = shown > 0;
    if (!shown) setText(this.empty, 'No colleague has that name.');
  }

  /** @returns {number[]} the ids of the ticked colleagues */
  invited() {
    return [.../** @type {NodeListOf<HTMLInputElement>} */ (this.list.querySelectorAll('input[name="invite"]:checked'))]
      .map((i) => Number(i.value))
      .filter((n) => Number.isFinite(n));
  }

  updateCount() {
    const n = this.invited().length;
    setText(this.count, n ? `(${n} selected)` : '(optional)');
  }

  /** Unticks everyone (after a room was made). */
  reset() {
    this.createName.value = '';
    for (const i of /** @type {NodeListOf<HTMLInputElement>} */ (this.list.querySelectorAll('input[name="invite"]'))) {
      i.checked = false;
    }
    this.filter.value = '';
    this.applyFilter();
    this.updateCount();
  }
}

/** @param {unknown} err */
function message(err) {
  return err instanceof Error ? err.message : String(err);
}

/** @param {HTMLElement} node @param {string} text */
function show(node, text) {
  setText(node, text);
  node.hidden = false;
}

/** @param {HTMLElement} node */
function hide(node) {
  node.hidden = true;
}

/**
 * @param {HTMLButtonElement} button
 * @param {boolean} on
 * @param {string} text
 */
function busy(button, on, text) {
  button.disabled = on;
  setText(button, text);
}
