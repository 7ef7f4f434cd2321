// @ts-check
// Assigning a live chat (docs/protocol.md, "Transfers": chat.assign): the
// same picker as the desk's transfer (lib/targets.js), listing whom the
// chat can go to now (chat.assign_targets). To an agent it is done at once
// (the agents it had lose it); to a queue it waits there at the head.

import { TargetDialog } from '../lib/targets.js';

/** @type {TargetDialog | null} */
let dialog = null;

/**
 * Opens the picker to assign a conversation.
 * @param {import('./types.js').Ctx} ctx
 * @param {{id: number, customer?: {name: string}}} conversation
 */
export function assignChat(ctx, conversation) {
  dialog ??= new TargetDialog(ctx.conn);
  const who = conversation.customer?.name || 'the customer';
  dialog.open(conversation.id, {
    title: 'Assign the chat',
    text: `The chat with ${who} goes at once to the agent you choose, or to the head of a queue.`,
    confirm: 'Assign',
    queueLabel: (t) => `The queue ${t.name}`,
    targets: 'chat.assign_targets',
    send: async (t) => {
      const to = t.kind === 'agent' ? { user_id: t.id } : { queue_id: t.id };
      await ctx.conn.request('chat.assign', { conversation_id: conversation.id, ...to });
      ctx.notices(`The chat with ${who} went to ${t.name}.`);
    },
  });
}
