// @ts-check
// The agents: status and time in it, load, each live chat as a chip
// coloured by its queue's chat-time limits with its age, and an idle
// warning; choosing one shows a summary of their chats in the agent pane.

import { el } from '../lib/dom.js';
import { duration, errorText } from '../lib/util.js';
import { ticking, tick } from './floor.js';
import { renderAgentActions } from './agent-actions.js';
import { askScreen } from './monitor.js';

/** @typedef {import('./floor.js').Agent} Agent */
/** @typedef {import('./floor.js').LiveChat} LiveChat */
/** @typedef {import('./floor.js').FloorView} FloorView */

/** @param {Agent} a */
export function statusText(a) {
  const status = a.status === 'paused' && a.reason ? `Paused: ${a.reason}` : a.status.charAt(0).toUpperCase() + a.status.slice(1);
  return a.online ? status : `${status} (not connected)`;
}

/**
 * A live chat as a chip: the customer and the chat's age, coloured by
 * its queue's limits; choosing it opens the chat.
 * @param {import('./types.js').Ctx} ctx
 * @param {FloorView} view
 * @param {LiveChat} c
 */
export function chatChip(ctx, view, c) {
  const chip = el('button', { type: 'button', class: 'sup-chip', 'data-conversation-id': c.conversation_id },
  el('span', { class: 'sup-chip-name' }, c.customer_name), ' ',
  el('span', { class: 'age-text' }, ''),
  el('span', { class: 'age-level' }, ''),
  c.wrap_up ? el('span', { class: 'sup-muted' }, ' · wrap-up') : null);
  ticking(chip, c.since, view.limits(c.queue_id));
  chip.addEventListener('click', () => ctx.openChat(c.conversation_id));
  return chip;
}

/**
 * Renders the agents table into root.
 * @param {import('./types.js').Ctx} ctx
 * @param {HTMLElement} root
 * @param {FloorView} view
 * @param {(id: number) => void} choose shows an agent in the agent pane
 */
export function renderAgents(ctx, root, view, choose) {
  const snap = view.snap;
  if (!snap) return;
  const body = el('tbody', {});
  for (const a of snap.agents) {
    const name = el('button', { type: 'button', class: 'sup-link' }, a.name);
    name.addEventListener('click', () => choose(a.id));
    const idle = el('span', { class: 'sup-idle', role: 'status', 'data-idle-limit': a.idle_limit_seconds }, 'Idle');
    idle.hidden = true;
    if (a.idle_since && a.idle_limit_seconds > 0 && a.status === 'available' && a.online) {
      idle.dataset.idleSince = a.idle_since;
    }
    body.append(el('tr', { 'data-agent-id': a.id, 'data-status': a.status, 'data-online': String(a.online) },
      el('th', { scope: 'row' }, name, a.role === 'agent' ? null : el('span', { class: 'role' }, a.role)),
      el('td', { 'data-col': 'status' }, statusText(a)),
      el('td', { 'data-col': 'since' }, a.since ? ticking(el('span', { class: 'sup-age' }), a.since) : '—'),
      el('td', { 'data-col': 'load' }, a.capacity ? `${a.open_chats} / ${a.capacity}` : String(a.open_chats)),
      el('td', { 'data-col': 'chats' }, ...a.chats.map((c) => chatChip(ctx, view, c)), idle)));
  }
  root.replaceChildren(snap.agents.length
    ? el('table', { class: 'sup-table', id: 'agents-table' },
      el('caption', {}, 'Agents'),
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, 'Agent'), el('th', { scope: 'col' }, 'Status'),
        el('th', { scope: 'col' }, 'In status'), el('th', { scope: 'col' }, 'Load'),
        el('th', { scope: 'col' }, 'Live chats'))),
      body)
    : el('p', { class: 'sup-muted' }, 'No agents in your queues.'));
}

/**
 * @typedef {Agent & {queues: {id: number, name: string, capacity: number}[],
 *   today: {answered: number, average_handling_seconds: number | null}}} AgentInfo
 */

/**
 * Shows agent id's summary in ctx.panes.agent: status, queues, today's
 * figures, open chats, the actions and the screen button.
 * @param {import('./types.js').Ctx} ctx
 * @param {FloorView} view
 * @param {number} id
 */
export async function showAgent(ctx, view, id) {
  const pane = ctx.panes.agent;
  pane.hidden = false;
  pane.dataset.agentId = String(id);
  pane.replaceChildren(el('p', { class: 'sup-muted' }, 'Loading…'));
  /** @type {AgentInfo} */
  let a;
  try {
    a = /** @type {AgentInfo} */ (await ctx.conn.request('supervisor.agent', { user_id: id }));
  } catch (err) {
    pane.replaceChildren(el('p', { role: 'alert' }, `Could not load the agent: ${errorText(err)}`));
    return;
  }
  if (pane.dataset.agentId !== String(id)) return; // another agent was chosen meanwhile
  const close = el('button', { type: 'button', class: 'button button-quiet', 'aria-label': 'Close agent' }, '×');
  close.addEventListener('click', () => {
    pane.hidden = true;
    pane.replaceChildren();
  });
  const screen = el('button', { type: 'button', class: 'button' }, 'Screen');
  screen.addEventListener('click', () => askScreen(ctx, { id: a.id, name: a.name }));
  const actions = el('div', { class: 'sup-agent-actions' });
  const chats = a.chats.length
    ? el('ul', { class: 'sup-agent-chats' }, ...a.chats.map((c) => el('li', {}, chatChip(ctx, view, c))))
    : el('p', { class: 'sup-muted' }, 'No open chats.');
  const summary = el('div', { class: 'sup-agent-summary' },
    el('div', { class: 'sup-pane-head' }, el('h2', {}, a.name), close),
    el('dl', {},
      el('dt', {}, 'Status'), el('dd', {}, statusText(a), a.since ? ' for ' : '',
        a.since ? ticking(el('span', { class: 'sup-age' }), a.since) : ''),
      el('dt', {}, 'Queues'), el('dd', {}, a.queues.map((q) => q.name).join(', ') || '—'),
      el('dt', {}, 'Load'), el('dd', {}, a.capacity ? `${a.open_chats} / ${a.capacity}` : String(a.open_chats)),
      el('dt', {}, 'Answered today'), el('dd', { 'data-col': 'answered-today' }, String(a.today.answered)),
      el('dt', {}, 'Average handling today'), el('dd', {},
        a.today.average_handling_seconds === null ? '—' : duration(a.today.average_handling_seconds * 1000))),
    el('h3', {}, `Open chats (${a.chats.length})`), chats,
    el('div', { class: 'sup-agent-buttons' }, screen), actions);
  pane.replaceChildren(summary);
  renderAgentActions(ctx, { id: a.id, name: a.name }, actions);
  tick(pane, view);
}
