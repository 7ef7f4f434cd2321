// @ts-check
// What the supervisor does to a ticket, from the Tickets list or the
// ticket's pane (docs/protocol.md, "Tickets (staff)"): assign it to an
// agent of its queue (ticket.assign, with a picker of those agents),
// unassign it, close it (ticket.close) and reopen it (ticket.reopen). Each
// answer is the ticket as it is now, handed to `changed`, so the list and
// the pane show it at once; ticket.changed tells every other console.

import { el } from '../lib/dom.js';
import { clock, day, errorText } from '../lib/util.js';
import { formDialog } from '../lib/form-dialog.js';

/**
 * @typedef {import('./types.js').Ctx} Ctx
 * @typedef {import('./types.js').Ticket} Ticket
 * @typedef {import('./floor.js').FloorView} FloorView
 * @typedef {(t: Ticket) => void} Changed
 * @typedef {{id: number, name: string, status: string, online: boolean}} Candidate
 */

export const PRIORITY_TEXT = /** @type {Record<string, string>} */ ({ low: 'Low', normal: 'Normal', high: 'High', urgent: 'Urgent' });

/**
 * Today's time, or another day's date and time.
 * @param {string} iso
 */
export function at(iso) {
  return day(iso) === day(new Date().toISOString()) ? clock(iso) : `${day(iso)} ${clock(iso)}`;
}

/** How a ticket's number and title read in names and notices. */
export const ticketName = (/** @type {Ticket} */ t) => `#${t.id} ${t.title}`;

/**
 * The agents who may take the ticket: those of the floor who are members
 * of its queue (supervisor.agent tells each one's queues), by name.
 * @param {Ctx} ctx
 * @param {FloorView} view
 * @param {Ticket} t
 * @returns {Promise<Candidate[]>}
 */
export async function candidates(ctx, view, t) {
  const agents = view.snap?.agents ?? [];
  const answers = await Promise.all(agents.map(async (a) => {
    try {
      /** @type {{queues: {id: number}[]}} */
      const full = await ctx.conn.request('supervisor.agent', { user_id: a.id });
      return full.queues.some((q) => q.id === t.queue.id) ? a : null;
    } catch (err) {
      // One who left the floor meanwhile is not a candidate.
      if (/** @type {{code?: string}} */ (err).code === 'not_found') return null;
      throw err;
    }
  }));
  return answers
    .filter((a) => a !== null)
    .map((a) => ({ id: a.id, name: a.name, status: a.status, online: a.online }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Opens the picker of agents for the ticket, and assigns it to the one
 * chosen (or to nobody, when it has an assignee).
 * @param {Ctx} ctx
 * @param {FloorView} view
 * @param {Ticket} t
 * @param {Changed} changed
 */
export async function assignTicket(ctx, view, t, changed) {
  /** @type {Candidate[]} */
  let agents;
  try {
    agents = await candidates(ctx, view, t);
  } catch (err) {
    ctx.notices(`Could not list the agents of ${t.queue.name}: ${errorText(err)}`);
    return;
  }
  const choices = agents.map((a) => choice(String(a.id), a.name,
    `${a.online ? STATUS_TEXT[a.status] ?? a.status : 'Offline'}${t.assignee?.id === a.id ? ' · has it now' : ''}`));
  if (t.assignee) choices.push(choice('', 'Nobody', 'Back to Unassigned'));
  const list = el('fieldset', { class: 'choices sup-ticket-agents' }, el('legend', {}, 'Agent'),
    ...(choices.length ? choices : [el('p', { class: 'sup-muted' }, `No agent of ${t.queue.name} is on your floor.`)]));
  const d = formDialog({
    title: `Assign ticket ${ticketName(t)}`,
    text: `An agent of the queue ${t.queue.name} takes it; it is in their desk at once.`,
    confirm: 'Assign',
    fields: [list],
    focus: 'dismiss',
  });
  d.onSubmit = async () => {
    const picked = /** @type {HTMLInputElement | null} */ (list.querySelector('input:checked'));
    if (!picked) throw new Error('Choose an agent.');
    const assignee = picked.value ? Number(picked.value) : null;
    const answer = /** @type {Ticket} */ (await ctx.conn.request('ticket.assign', { ticket_id: t.id, assignee_id: assignee }));
    changed(answer);
    ctx.notices(answer.assignee ? `${ticketName(answer)} is assigned to ${answer.assignee.name}.` : `${ticketName(answer)} is unassigned.`);
  };
  d.show(/** @type {HTMLElement | null} */ (list.querySelector('input')));
}

/**
 * Closes the ticket, or reopens it when it is closed.
 * @param {Ctx} ctx
 * @param {Ticket} t
 * @param {Changed} changed
 */
export async function closeOrReopen(ctx, t, changed) {
  const type = t.state === 'closed' ? 'ticket.reopen' : 'ticket.close';
  try {
    changed(/** @type {Ticket} */ (await ctx.conn.request(type, { ticket_id: t.id })));
  } catch (err) {
    ctx.notices(`Could not ${t.state === 'closed' ? 'reopen' : 'close'} ${ticketName(t)}: ${errorText(err)}`);
  }
}

/**
 * The buttons of a ticket's actions: Assign…, and Close ticket or Reopen
 * ticket. Their names say which ticket, for a screen reader going through
 * the list.
 * @param {Ctx} ctx
 * @param {FloorView} view
 * @param {Ticket} t
 * @param {Changed} changed
 */
export function ticketButtons(ctx, view, t, changed) {
  const name = ticketName(t);
  const assign = el('button', { type: 'button', class: 'button button-quiet', 'aria-label': `Assign ticket ${name}…`, 'data-action': 'assign' },
    'Assign…');
  const verb = t.state === 'closed' ? 'Reopen' : 'Close';
  const state = el('button', { type: 'button', class: 'button button-quiet', 'aria-label': `${verb} ticket ${name}`,
    'data-action': verb.toLowerCase() }, `${verb} ticket`);
  assign.addEventListener('click', async () => {
    assign.disabled = true;
    try {
      await assignTicket(ctx, view, t, changed);
    } finally {
      assign.disabled = false;
    }
  });
  state.addEventListener('click', async () => {
    state.disabled = true;
    try {
      await closeOrReopen(ctx, t, changed);
    } finally {
      state.disabled = false;
    }
  });
  return [assign, state];
}

const STATUS_TEXT = /** @type {Record<string, string>} */ ({ available: 'Available', paused: 'Paused', offline: 'Offline' });

/**
 * A radio choice with a name and a detail line (lib/dialog.css).
 * @param {string} value
 * @param {string} name
 * @param {string} detail
 */
function choice(value, name, detail) {
  return el(
    'label',
    { class: 'choice' },
    el('input', { type: 'radio', name: 'ticket-assignee', value }),
    el('span', {}, el('span', { class: 'sup-ticket-choice-name' }, name), ' ', el('span', { class: 'sup-muted' }, detail)),
  );
}
