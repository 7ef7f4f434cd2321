// @ts-check
// Keeping up with events the server's bus lost (docs/protocol.md,
// "chat.position" and "session.resync"). A live event can be lost between
// the server's nodes; a gap below a newer event shows itself (delivery.js),
// but a lost last event does not. So a page asks chat.position where every
// conversation it follows stands: at once on session.resync, and otherwise
// every POSITION_CHECK_MS while connected; each one past what the page has
// shown is resumed from there (chat.resume, after_seq = highest shown).

/** How often a connected page checks the conversations it follows. */
export const POSITION_CHECK_MS = 15000;

/** How many conversations one chat.position names at most. */
export const MAX_POSITIONS = 100;

/**
 * @typedef {object} Positions
 * @property {() => Promise<void>} check checks now (a check under way goes round once more)
 * @property {() => void} stop no more checks
 */

/**
 * Follows the positions of what a page shows.
 * @param {import('./parley.js').Connection} conn
 * @param {() => Map<number, number>} shown the conversations followed: id → the highest seq shown
 * @param {(id: number) => void} behind the conversation has events past what is shown: resume it
 * @returns {Positions}
 */
export function followPositions(conn, shown, behind) {
  let checking = false;
  let again = false;

  async function check() {
    if (!conn.ready) return;
    if (checking) {
      again = true;
      return;
    }
    checking = true;
    try {
      do {
        again = false;
        const ids = [...shown().keys()];
        for (let i = 0; i < ids.length && conn.ready; i += MAX_POSITIONS) {
          const answer = /** @type {{positions: {conversation_id: number, last_seq: number}[]}} */ (
            await conn.request('chat.position', { conversation_ids: ids.slice(i, i + MAX_POSITIONS) })
          );
          // Shown again now: a live event may have caught up meanwhile.
          const now = shown();
          for (const p of answer.positions) {
            const highest = now.get(p.conversation_id);
            if (highest !== undefined && p.last_seq > highest) behind(p.conversation_id);
          }
        }
      } while (again && conn.ready);
    } catch (err) {
      // Disconnected: the next hello resumes everything. Otherwise the
      // next check tries again.
      console.warn('parley: chat.position failed', err);
    } finally {
      checking = false;
    }
  }

  const off = conn.on('session.resync', () => void check());
  const timer = setInterval(() => void check(), POSITION_CHECK_MS);
  return {
    check,
    stop() {
      off();
      clearInterval(timer);
    },
  };
}
