// @ts-check
// The chat pane: one conversation, live and read-only. (Stub: helper B1's.)

/**
 * Opens conversation id in ctx.panes.chat.
 * @param {import('./types.js').Ctx} ctx
 * @param {number} conversationId
 */
export function openChat(ctx, conversationId) {
  ctx.panes.chat.hidden = false;
  ctx.panes.chat.textContent = `Chat ${conversationId}`;
}
