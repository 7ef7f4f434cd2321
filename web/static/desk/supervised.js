// @ts-check
// What a supervisor does to this agent, as the desk shows it
// (docs/protocol.md, "Supervisor actions", "Transfers"): who paused the
// agent and why ("Paused by Sam Supervisor: Coaching"), a chat a
// supervisor assigned to the agent (it opens), and being signed out by a
// supervisor: every tab closes with 4001 and "<name> signed you out",
// which the sign-in page then says.

/**
 * @typedef {import('./notices.js').Notices} Notices
 * @typedef {{status: string, reason?: string, since?: string, by?: {id: number, name: string}}} Status
 */

const PAUSED_KEY = 'paused-by';
/** Where the sign-in page finds why the session ended (login.js). */
export const SIGNED_OUT_KEY = 'parley.signed-out';
const SIGNED_OUT = 4001;

export class Supervised {
  /**
   * @param {object} o
   * @param {import('../lib/parley.js').Connection} o.conn
   * @param {Notices} o.notices
   * @param {(id: number) => void} o.adopt opens a chat of this agent's
   */
  constructor({ conn, notices, adopt }) {
    this.notices = notices;
    conn.on('agent.status', (/** @type {Status} */ st) => this.status(st));
    conn.on('chat.assigned', (/** @type {{conversation: {id: number, customer?: {name: string}}, by: {name: string}}} */ d) => {
      adopt(d.conversation.id);
      const who = d.conversation.customer?.name || 'a customer';
      notices.show(`${d.by.name} gave you the chat with ${who}.`, { kind: 'info' });
    });
    const prevClose = conn.onclose;
    conn.onclose = (code, reason) => {
      // Before the desk checks its session and leaves for the sign-in page.
      if (code === SIGNED_OUT && reason && reason !== 'signed out') {
        try {
          sessionStorage.setItem(SIGNED_OUT_KEY, reason);
        } catch {
          // Storage refused: the sign-in page shows no reason.
        }
      }
      prevClose?.(code, reason);
    };
  }

  /**
   * The agent's status (agent.state's answer or an agent.status event):
   * a notice says who paused the agent and why, while it lasts.
   * @param {Status} st
   */
  status(st) {
    if (st.status === 'paused' && st.by) {
      this.notices.show(`Paused by ${st.by.name}: ${st.reason ?? ''}`, { kind: 'info', key: PAUSED_KEY });
    } else {
      this.notices.clear(PAUSED_KEY);
    }
  }
}
