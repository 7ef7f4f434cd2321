// @ts-check
// What a supervisor does to an agent. (Stub: helper B2's.)

/**
 * Renders the actions on agent into el.
 * @param {import('./types.js').Ctx} ctx
 * @param {{id: number, name: string}} agent
 * @param {HTMLElement} el
 */
export function renderAgentActions(ctx, agent, el) {
  void ctx;
  void agent;
  el.replaceChildren();
}
