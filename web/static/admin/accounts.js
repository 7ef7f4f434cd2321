// @ts-check
// The admin console's accounts section: to be built (issue 17).

/**
 * @param {import('./types.js').Ctx} _ctx
 * @param {HTMLElement} root
 */
export function mount(_ctx, root) {
  root.textContent = 'Not built yet.';
}
