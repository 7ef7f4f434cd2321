// @ts-check
// The Queues tab's members picker: the agents and supervisors (GET
// /api/admin/users) as checkboxes, with a search over names and
// usernames. Members are kept by username, as the API takes them.

import { el, setText } from '../lib/dom.js';

/** @typedef {{id: number, username: string, name: string, role: string}} User */

export class MembersPicker {
  /** @param {() => void} changed told after every tick */
  constructor(changed) {
    this.changed = changed;
    /** @type {User[]} */
    this.users = [];
    /** @type {Set<string>} */
    this.chosen = new Set();
    this.search = /** @type {HTMLInputElement} */ (
      el('input', { type: 'search', id: 'q-members-search', placeholder: 'Search by name or username', autocomplete: 'off' })
    );
    this.count = el('p', { class: 'qf-hint', 'aria-live': 'polite' });
    this.list = el('ul', { class: 'qm-list', id: 'q-members', 'aria-label': 'Agents and supervisors' });
    this.root = el(
      'div',
      { class: 'qm' },
      el('label', { for: 'q-members-search', class: 'visually-hidden' }, 'Search members'),
      this.search,
      this.count,
      this.list,
    );
    this.search.addEventListener('input', () => this.filter());
  }

  /** @param {User[]} users everyone; only agents and supervisors are listed */
  setUsers(users) {
    this.users = users.filter((u) => u.role === 'agent' || u.role === 'supervisor');
    this.render();
  }

  /** @param {string[]} members */
  set(members) {
    this.chosen = new Set(members ?? []);
    this.render();
  }

  /** @returns {string[]} usernames, sorted */
  value() {
    return [...this.chosen].sort();
  }

  render() {
    // Members the list does not hold (another role now, say) still show, ticked.
    const known = new Set(this.users.map((u) => u.username));
    const others = [...this.chosen].filter((u) => !known.has(u)).map((u) => ({ id: 0, username: u, name: u, role: '' }));
    this.list.replaceChildren(
      ...[...this.users, ...others].map((u) => {
        const box = /** @type {HTMLInputElement} */ (el('input', { type: 'checkbox', value: u.username }));
        box.checked = this.chosen.has(u.username);
        box.addEventListener('change', () => {
          if (box.checked) this.chosen.add(u.username);
          else this.chosen.delete(u.username);
          this.tell();
          this.changed();
        });
        return el(
          'li',
          { 'data-username': u.username, 'data-search': `${u.name} ${u.username}`.toLowerCase() },
          el(
            'label',
            { class: 'qf-check' },
            box,
            ' ',
            el('span', { class: 'qm-name' }, u.name),
            ' ',
            el('span', { class: 'qm-user' }, `${u.username}${u.role ? ` · ${u.role}` : ''}`),
          ),
        );
      }),
    );
    this.filter();
    this.tell();
  }

  filter() {
    const q = this.search.value.trim().toLowerCase();
    for (const li of /** @type {HTMLElement[]} */ ([...this.list.children])) {
      li.hidden = q !== '' && !(li.dataset.search ?? '').includes(q);
    }
  }

  tell() {
    const n = this.chosen.size;
    setText(this.count, n === 0 ? 'No members: no one gets this queue’s chats.' : `${n} member${n === 1 ? '' : 's'}`);
  }

  /** @returns {HTMLElement} */
  focusTarget() {
    return /** @type {HTMLElement} */ (this.list.querySelector('input') ?? this.search);
  }
}
