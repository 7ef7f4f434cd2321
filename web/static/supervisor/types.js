// @ts-check
// The types the supervisor console's modules share.

/**
 * What every module of the console is given.
 * @typedef {object} Ctx
 * @property {import('../lib/parley.js').Connection} conn the page's one connection
 * @property {{id: number, name: string, role: string}} me who is signed in
 * @property {(text: string) => void} notices shows a notice at the top of the page
 * @property {(id: number) => void} openChat opens a conversation in the chat pane
 * @property {{chat: HTMLElement, agent: HTMLElement}} panes where a chat and an agent open
 */

export {};
