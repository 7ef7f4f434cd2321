// @ts-check
// The types the admin console's modules share.

/**
 * What every section of the console is given.
 * @typedef {object} Ctx
 * @property {{id: number, username: string, name: string, role: string}} me who is signed in
 * @property {(text: string) => void} notices shows a notice at the top of the page
 * @property {(name: string) => void} show shows another section ("accounts", "queues", "email")
 */

/**
 * A section: mount builds it into root once, the first time it is shown;
 * shown (when there is one) is called each time it is shown again.
 * @typedef {object} Section
 * @property {(ctx: Ctx, root: HTMLElement) => void | Promise<void>} mount
 * @property {(() => void)=} shown
 */

export {};
