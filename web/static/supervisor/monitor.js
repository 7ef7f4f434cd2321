// @ts-check
// Screen monitoring and watching a chat's video room. (Stub: helper C's.)

/**
 * Asks agent to share their screen with the supervisor.
 * @param {import('./types.js').Ctx} ctx
 * @param {{id: number, name: string}} agent
 */
export function askScreen(ctx, agent) {
  ctx.notices(`Screen monitoring of ${agent.name} is not built yet.`);
}

/**
 * Watches conversation id's video room, receive-only, in el.
 * @param {import('./types.js').Ctx} ctx
 * @param {number} conversationId
 * @param {HTMLElement} el
 */
export function watchChatRoom(ctx, conversationId, el) {
  void ctx;
  void conversationId;
  el.replaceChildren();
}
