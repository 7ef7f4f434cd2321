// @ts-check
// Staff comments on a chat (docs/protocol.md, "Comments (staff)"): how a
// comment shows among the chat's events, and the small box that writes
// one, with a picker that puts @username in the text (a display name with
// spaces cannot be typed as a mention; the picker inserts the login). The
// desk and the supervisor's chat pane share this module. Everything is
// text (dom.js).

import { el } from '../lib/dom.js';
import { errorText, hhmm, newClientId } from '../lib/util.js';

/**
 * @typedef {import('../lib/types.js').ChatEvent} ChatEvent
 * @typedef {{id: number, name: string, username?: string, role: string}} Colleague a staff.directory entry
 */

/** A mention token, as the server reads one (without its leading context). */
const MENTION = /(@[a-zA-Z0-9._-]{2,64})/;

/**
 * A comment event: a staff note in its own colour, with its author, the
 * word "Comment", and its @mentions marked.
 * @param {ChatEvent & {mentions?: {id: number, name: string}[]}} ev
 * @returns {HTMLElement}
 */
export function renderComment(ev) {
  const author = ev.author?.name ?? '';
  const parts = (ev.text ?? '').split(MENTION).map((part, i) => (i % 2 ? el('span', { class: 'mention' }, part) : part));
  const node = el(
    'div',
    { class: 'msg msg-comment', 'data-seq': ev.seq || null, 'data-author': author, role: 'note', 'aria-label': `Comment by ${author}` },
    el(
      'p',
      { class: 'msg-meta' },
      el('span', { class: 'msg-author' }, author),
      el('span', { class: 'comment-label', title: 'A comment for staff: the customer never sees it' }, 'Comment'),
      el('time', { class: 'msg-time', datetime: ev.time || null }, ev.time ? hhmm(ev.time) : ''),
    ),
    el('div', { class: 'msg-text' }, ...parts),
  );
  if (ev.mentions?.length) node.dataset.mentions = ev.mentions.map((m) => m.name).join(', ');
  return node;
}

let boxes = 0;

/**
 * The comment box: a text area, a "Mention" picker of the staff
 * (staff.directory), and a Comment button. A comment that fails for a
 * reason that may pass (timeout, unavailable) keeps its text and its
 * client_id, so sending it again stores it once.
 */
export class CommentBox {
  /**
   * @param {object} o
   * @param {import('../lib/parley.js').Connection} o.conn
   * @param {() => number | null} o.conversation the chat commented on now
   */
  constructor({ conn, conversation }) {
    this.conn = conn;
    this.conversation = conversation;
    /** @type {{text: string, id: string} | null} the last comment not yet stored */
    this.pending = null;
    const n = ++boxes;
    this.text = el('textarea', {
      id: `comment-text-${n}`,
      class: 'comment-text',
      rows: 2,
      placeholder: 'Only staff see comments. Type @ and a login, or pick a colleague.',
    });
    this.picker = el('select', { class: 'comment-picker', 'aria-label': 'Mention a colleague' }, el('option', { value: '' }, '@ Mention…'));
    this.button = el('button', { class: 'button', type: 'submit' }, 'Comment');
    this.error = el('p', { class: 'comment-error', role: 'alert', hidden: true });
    this.form = el(
      'form',
      { class: 'comment-box', novalidate: true },
      el('label', { class: 'comment-label-text', for: this.text.id }, 'Comment for staff'),
      this.text,
      el('div', { class: 'comment-actions' }, this.picker, this.button),
      this.error,
    );
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submit();
    });
    this.text.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        void this.submit();
      }
    });
    this.picker.addEventListener('focus', () => void this.loadStaff());
    this.picker.addEventListener('pointerdown', () => void this.loadStaff());
    this.picker.addEventListener('change', () => {
      const login = this.picker.value;
      this.picker.value = '';
      if (login) this.insert(`@${login} `);
    });
    this.loaded = false;
  }

  /** The staff the picker lists, asked for again each time it opens. */
  async loadStaff() {
    if (!this.conn.ready) return;
    try {
      const { users } = /** @type {{users: Colleague[]}} */ (await this.conn.request('staff.directory'));
      const me = this.conn.hello?.principal;
      const options = users
        .filter((u) => u.username && String(u.id) !== String(me?.id))
        .map((u) => el('option', { value: u.username ?? '' }, `${u.name} (@${u.username})`));
      this.picker.replaceChildren(this.picker.options[0], ...options);
      this.loaded = true;
    } catch {
      // the picker stays as it was; one can still type @login
    }
  }

  /**
   * Puts s into the text at the cursor.
   * @param {string} s
   */
  insert(s) {
    const t = this.text;
    const at = t.selectionStart ?? t.value.length;
    const before = t.value.slice(0, at);
    const lead = before === '' || /\s$/.test(before) ? '' : ' ';
    t.value = before + lead + s + t.value.slice(t.selectionEnd ?? at);
    const caret = (before + lead + s).length;
    t.focus();
    t.setSelectionRange(caret, caret);
  }

  async submit() {
    const id = this.conversation();
    const text = this.text.value.trim();
    if (!id || !text) return;
    if (!this.pending || this.pending.text !== text) this.pending = { text, id: newClientId('k') };
    const clientId = this.pending.id;
    this.button.disabled = true;
    this.error.hidden = true;
    try {
      await this.conn.request('chat.comment', { conversation_id: id, client_id: clientId, text });
      this.pending = null;
      if (this.text.value.trim() === text) this.text.value = '';
    } catch (err) {
      this.error.textContent = `Could not comment: ${errorText(err)}`;
      this.error.hidden = false;
    } finally {
      this.button.disabled = false;
    }
  }

  /** For another chat: an empty box. */
  reset() {
    this.text.value = '';
    this.pending = null;
    this.error.hidden = true;
  }
}
