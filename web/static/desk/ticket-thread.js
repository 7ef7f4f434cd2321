// @ts-check
// One ticket opened in the desk's tickets view (ticket-view.js;
// docs/protocol.md, ticket.get): its title, state, priority, customer and
// assignee; its thread, the chat it came from (the desk's own rendering of
// events, render.js) and then the ticket's events; a reply by e-mail to
// the customer, a note for staff; take, assign, its priority, close and
// reopen. A change told by ticket.changed reads the thread again.

import { el, setText } from '../lib/dom.js';
import { day, errorText, hhmm } from '../lib/util.js';
import { group, renderEvent } from './render.js';
import { assigneeSelect, colleagues, myId, PRIORITY_TEXT, prioritySelect, say, SOURCE_TEXT, STATE_TEXT, starButton, ticketTags } from './ticket-parts.js';

/**
 * @typedef {import('../lib/types.js').Ticket} Ticket
 * @typedef {import('../lib/types.js').TicketEvent} TicketEvent
 * @typedef {import('../lib/types.js').TicketThread} TicketThread
 * @typedef {import('../lib/types.js').TicketPerson} TicketPerson
 */

const TEXT_LIMIT = 10000;

export class TicketThreadView {
  /**
   * @param {object} deps
   * @param {import('../lib/parley.js').Connection} deps.conn
   * @param {HTMLElement} deps.root where it draws
   */
  constructor({ conn, root }) {
    this.conn = conn;
    this.root = root;
    /** @type {number | null} the ticket shown */
    this.id = null;
    /** @type {TicketThread | null} */
    this.thread = null;
    /** answers older than the newest asked are dropped */
    this.asked = 0;
    /** @type {TicketPerson[] | null} */
    this.people = null;

    this.title = el('h3', { id: 'ticket-detail-title', class: 'ticket-detail-title', tabindex: -1 });
    this.head = el('div', { class: 'ticket-detail-head' });
    this.meta = el('dl', { class: 'ticket-detail-meta' });
    this.take = this.button('Take', async () => {
      const me = myId(conn);
      if (me !== null) await this.assign(me);
    });
    this.pick = /** @type {HTMLSelectElement} */ (el('select', { id: 'ticket-assignee', class: 'text-input' }));
    /** which ticket and assignee the choice was last set for */
    this.pickFor = '';
    this.peopleLoading = false;
    this.priority = prioritySelect('ticket-priority', 'normal');
    this.priority.addEventListener('change', async () => {
      const id = this.id;
      if (id === null) return;
      this.priority.disabled = true;
      say(this.error, '');
      try {
        this.changed(/** @type {Ticket} */ (await conn.request('ticket.update', { ticket_id: id, priority: this.priority.value })));
      } catch (err) {
        say(this.error, `The priority stays: ${errorText(err)}`);
        if (this.thread) this.priority.value = this.thread.ticket.priority;
      } finally {
        this.priority.disabled = false;
      }
    });
    this.close = this.button('Close ticket', () => this.act('ticket.close'));
    this.reopen = this.button('Reopen', () => this.act('ticket.reopen'));
    this.actions = el(
      'div',
      { class: 'ticket-detail-actions', role: 'group', 'aria-label': 'Ticket actions' },
      this.take,
      el(
        'span',
        { class: 'ticket-assign' },
        el('label', { for: this.pick.id, class: 'visually-hidden' }, 'Assign to'),
        this.pick,
        this.button('Assign', () => this.assign(this.pick.value ? Number(this.pick.value) : null)),
      ),
      el('span', { class: 'ticket-assign' }, el('label', { for: this.priority.id, class: 'visually-hidden' }, 'Priority'), this.priority),
      this.close,
      this.reopen,
    );
    this.error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    this.log = el('div', { class: 'transcript ticket-thread', role: 'log', 'aria-label': 'Thread', tabindex: 0 });

    this.replyText = /** @type {HTMLTextAreaElement} */ (el('textarea', { id: 'ticket-reply-text', class: 'text-input', rows: 4, maxlength: TEXT_LIMIT }));
    this.replyTo = /** @type {HTMLInputElement} */ (el('input', { id: 'ticket-reply-to', class: 'text-input', type: 'email', autocomplete: 'off' }));
    this.replySend = /** @type {HTMLButtonElement} */ (el('button', { class: 'button button-primary', type: 'submit' }, 'Send e-mail'));
    this.replyError = el('p', { class: 'form-error', role: 'alert', hidden: true });
    this.replyForm = el(
      'form',
      { class: 'ticket-compose', 'aria-label': 'Reply by e-mail', novalidate: true },
      el('h4', { class: 'ticket-compose-title' }, 'Reply by e-mail'),
      el('div', { class: 'field ticket-field' }, el('label', { for: this.replyTo.id }, 'To'), this.replyTo),
      el('div', { class: 'field ticket-field' }, el('label', { for: this.replyText.id }, 'Reply to the customer'), this.replyText),
      this.replyError,
      el('div', { class: 'dialog-buttons' }, this.replySend),
    );
    this.noteText = /** @type {HTMLTextAreaElement} */ (el('textarea', { id: 'ticket-note-text', class: 'text-input', rows: 2, maxlength: TEXT_LIMIT }));
    this.noteSend = /** @type {HTMLButtonElement} */ (el('button', { class: 'button', type: 'submit' }, 'Add note'));
    this.noteError = el('p', { class: 'form-error', role: 'alert', hidden: true });
    this.noteForm = el(
      'form',
      { class: 'ticket-compose ticket-note-form', 'aria-label': 'Note for staff', novalidate: true },
      el('div', { class: 'field ticket-field' }, el('label', { for: this.noteText.id }, 'Note for staff (the customer never sees it)'), this.noteText),
      this.noteError,
      el('div', { class: 'dialog-buttons' }, this.noteSend),
    );
    this.empty = el('p', { class: 'panel-empty' }, 'Choose a ticket to read its thread.');
    this.body = el('div', { class: 'ticket-detail-body', hidden: true }, this.head, this.meta, this.actions, this.error, this.log, this.replyForm, this.noteForm);
    this.root.append(this.empty, this.body);

    this.replyForm.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.reply();
    });
    this.noteForm.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.note();
    });
  }

  /**
   * Shows a ticket (null: none).
   * @param {number | null} id
   */
  async open(id) {
    if (id !== this.id) {
      this.replyText.value = '';
      this.noteText.value = '';
      say(this.replyError, '');
      say(this.noteError, '');
      say(this.error, '');
      this.thread = null;
    }
    this.id = id;
    this.body.hidden = id === null;
    this.empty.hidden = id !== null;
    if (id === null) return;
    if (!this.thread) {
      setText(this.title, `Ticket #${id}`);
      this.head.replaceChildren(this.title);
      this.log.replaceChildren(el('p', { class: 'panel-empty' }, 'Loading…'));
    }
    await this.reload();
  }

  /** Reads the ticket shown again; the newest answer is drawn. */
  async reload() {
    const id = this.id;
    if (id === null) return;
    const n = ++this.asked;
    try {
      const thread = /** @type {TicketThread} */ (await this.conn.request('ticket.get', { ticket_id: id }));
      if (n !== this.asked || id !== this.id) return;
      const first = this.thread === null;
      this.thread = thread;
      this.render();
      if (first && !this.replyTo.value) this.replyTo.value = thread.ticket.email;
    } catch (err) {
      if (n !== this.asked || id !== this.id) return;
      say(this.error, `Could not read ticket #${id}: ${errorText(err)}`);
    }
  }

  /**
   * ticket.changed: the ticket shown is read again once its thread or
   * fields moved.
   * @param {Ticket} t
   */
  changed(t) {
    if (t.id !== this.id || !this.thread) return;
    if (t.last_seq > this.thread.ticket.last_seq || (t.last_seq === this.thread.ticket.last_seq && t.updated_at !== this.thread.ticket.updated_at)) void this.reload();
  }

  // ----------------------------------------------------------------- draw

  render() {
    const th = this.thread;
    if (!th) return;
    const t = th.ticket;
    setText(this.title, `#${t.id} ${t.title}`);
    this.head.replaceChildren(this.title, el('p', { class: 'ticket-row-meta' }, ...ticketTags(t), starButton(this.conn, t, (m) => say(this.error, m))));
    /** @type {[string, string][]} */
    const rows = [
      ['Customer', [t.customer_name, t.email].filter(Boolean).join(' · ') || 'Unknown'],
      ['Assignee', t.assignee?.name ?? 'Nobody'],
      ['Queue', t.queue.name],
      ['Contact', t.contact?.name ?? 'None'],
      ['Came from', SOURCE_TEXT[t.source] ?? t.source],
      ['Opened', `${day(t.created_at)} ${hhmm(t.created_at)}`],
    ];
    if (th.chats.length) rows.push(['Linked chats', th.chats.map((c) => `${c.customer.name}, ${day(c.queued_at)} ${hhmm(c.queued_at)}${c.state === 'closed' ? '' : ' (open)'}`).join('; ')]);
    this.meta.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
    this.renderActions(t);
    this.renderLog(th);
    this.replyForm.hidden = false;
    this.replyTo.placeholder = t.email || 'customer@example.com';
  }

  /**
   * The actions: Take (when someone else or nobody has it), the assignee
   * choice, Close or Reopen. The choice is one element that keeps what the
   * agent picked while the ticket's assignee stays the same.
   * @param {Ticket} t
   */
  renderActions(t) {
    const me = myId(this.conn);
    this.take.hidden = me === null || t.state === 'closed' || t.assignee?.id === me;
    this.close.hidden = t.state === 'closed';
    this.reopen.hidden = t.state !== 'closed';
    if (!this.priority.disabled) this.priority.value = t.priority;
    const people = [...(this.people ?? [])];
    if (t.assignee && !people.some((p) => p.id === t.assignee?.id)) people.push(t.assignee);
    const assigned = `${t.id}:${t.assignee?.id ?? ''}`;
    const kept = this.pickFor === assigned ? this.pick.value : null;
    this.pick.replaceChildren(...assigneeSelect('', people, 'Nobody').children);
    this.pick.value = kept ?? String(t.assignee?.id ?? '');
    this.pickFor = assigned;
    if (this.people === null && !this.peopleLoading) {
      this.peopleLoading = true;
      colleagues(this.conn).then(
        (list) => {
          this.people = list;
          if (this.thread) this.renderActions(this.thread.ticket);
        },
        () => {},
      ).finally(() => (this.peopleLoading = false));
    }
  }

  /**
   * @param {string} label
   * @param {() => Promise<void>} run
   */
  button(label, run) {
    const b = /** @type {HTMLButtonElement} */ (el('button', { class: 'button', type: 'button' }, label));
    b.addEventListener('click', async () => {
      b.disabled = true;
      say(this.error, '');
      try {
        await run();
      } catch (err) {
        say(this.error, `${label}: ${errorText(err)}`);
      } finally {
        b.disabled = false;
      }
    });
    return b;
  }

  /** @param {TicketThread} th */
  renderLog(th) {
    /** @type {HTMLElement[]} */
    const nodes = [];
    if (th.conversation) {
      const c = th.conversation;
      const chat = el('section', { class: 'ticket-chat', 'aria-label': `The chat of ${day(c.queued_at)}` }, el('p', { class: 'divider' }, `The chat · ${day(c.queued_at)} · ${c.queue.name}`));
      for (const ev of th.transcript) {
        const node = renderEvent(ev, c);
        if (!node) continue;
        chat.append(node);
        group(node);
      }
      nodes.push(chat);
    }
    const events = el('section', { class: 'ticket-events', 'aria-label': 'The ticket' }, el('p', { class: 'divider' }, `The ticket · ${day(th.ticket.created_at)}`));
    for (const ev of th.events) events.append(renderTicketEvent(ev));
    nodes.push(events);
    const atEnd = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 48;
    this.log.replaceChildren(...nodes);
    if (atEnd || this.log.scrollTop === 0) this.log.scrollTop = this.log.scrollHeight;
  }

  // -------------------------------------------------------------- actions

  /** @param {number | null} assignee */
  async assign(assignee) {
    if (this.id === null) return;
    const t = /** @type {Ticket} */ (await this.conn.request('ticket.assign', { ticket_id: this.id, assignee_id: assignee }));
    this.changed(t);
  }

  /** @param {'ticket.close' | 'ticket.reopen'} type */
  async act(type) {
    if (this.id === null) return;
    const t = /** @type {Ticket} */ (await this.conn.request(type, { ticket_id: this.id }));
    this.changed(t);
  }

  async reply() {
    const id = this.id;
    const text = this.replyText.value.trim();
    if (id === null) return;
    if (!text) {
      say(this.replyError, 'Write the reply first.');
      this.replyText.focus();
      return;
    }
    const to = this.replyTo.value.trim();
    this.replySend.disabled = true;
    say(this.replyError, '');
    try {
      await this.conn.request('ticket.reply', to ? { ticket_id: id, text, to } : { ticket_id: id, text });
      if (this.id === id) this.replyText.value = '';
      await this.reload();
    } catch (err) {
      say(this.replyError, `Not sent: ${errorText(err)}`);
    } finally {
      this.replySend.disabled = false;
    }
  }

  async note() {
    const id = this.id;
    const text = this.noteText.value.trim();
    if (id === null) return;
    if (!text) {
      say(this.noteError, 'Write the note first.');
      this.noteText.focus();
      return;
    }
    this.noteSend.disabled = true;
    say(this.noteError, '');
    try {
      await this.conn.request('ticket.note', { ticket_id: id, text });
      if (this.id === id) this.noteText.value = '';
      await this.reload();
    } catch (err) {
      say(this.noteError, `Not added: ${errorText(err)}`);
    } finally {
      this.noteSend.disabled = false;
    }
  }
}

/**
 * A ticket event: a reply or a note as a message (a note marked for staff
 * only), the rest as a line.
 * @param {TicketEvent} ev
 * @returns {HTMLElement}
 */
export function renderTicketEvent(ev) {
  const who = ev.author?.name || (ev.author?.kind === 'system' ? 'Parley' : 'Someone');
  const time = el('time', { class: 'msg-time', datetime: ev.time }, `${day(ev.time)} ${hhmm(ev.time)}`);
  if (ev.kind === 'reply' || ev.kind === 'note') {
    const out = ev.direction !== 'in';
    const label =
      ev.kind === 'note'
        ? 'Note for staff'
        : out
          ? `E-mail to ${ev.data?.to ?? 'the customer'}`
          : `${ev.channel === 'email' ? 'E-mail' : 'Reply'} from the customer`;
    return el(
      'div',
      { class: `msg ${ev.kind === 'reply' && !out ? 'msg-customer' : 'msg-agent'} ticket-${ev.kind}${ev.kind === 'note' ? ' msg-private' : ''}`, 'data-seq': ev.seq },
      el('p', { class: 'msg-meta' }, el('span', { class: 'msg-author' }, who), el('span', { class: 'ticket-event-label' }, label), time),
      el('div', { class: 'msg-text' }, ev.text ?? ''),
    );
  }
  return el('p', { class: `system ticket-line ticket-line-${ev.kind}`, 'data-seq': ev.seq }, el('span', { class: 'system-text' }, ticketLine(ev, who)), time);
}

/**
 * @param {TicketEvent} ev
 * @param {string} who
 */
function ticketLine(ev, who) {
  switch (ev.kind) {
    case 'created':
      return ev.data?.source && ev.data.source !== 'agent' && ev.data.source !== 'manual'
        ? `The ticket was made from ${SOURCE_TEXT[/** @type {Ticket['source']} */ (ev.data.source)] ?? ev.data.source}`
        : `${who} made the ticket`;
    case 'assigned':
      return `${who} assigned it to ${ev.data?.assignee?.name ?? 'an agent'}`;
    case 'unassigned':
      return `${who} unassigned it`;
    case 'closed':
      return `${who} closed it`;
    case 'reopened':
      return `${who} reopened it`;
    case 'linked':
      return `${who} linked a chat to it`;
    case 'unlinked':
      return `${who} unlinked a chat from it`;
    case 'changed':
      return `${who} changed ${(ev.data?.fields ?? []).map((f) => `the ${f.field} from “${label(f.field, f.old)}” to “${label(f.field, f.new)}”`).join(', ') || 'it'}`;
    default:
      return `${who}: ${ev.kind}`;
  }
}

/**
 * @param {string} field
 * @param {string} value
 */
function label(field, value) {
  if (field === 'priority') return PRIORITY_TEXT[/** @type {Ticket['priority']} */ (value)] ?? value;
  if (field === 'state') return STATE_TEXT[/** @type {Ticket['state']} */ (value)] ?? value;
  return value;
}
