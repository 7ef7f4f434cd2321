// @ts-check
// The history tab: search every conversation. (Stub: helper D's.)

/**
 * Mounts the history search in el.
 * @param {import('./types.js').Ctx} ctx
 * @param {HTMLElement} el
 */
export function mountHistory(ctx, el) {
  void ctx;
  el.replaceChildren();
}
