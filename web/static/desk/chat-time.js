// @ts-check
// Each live chat's tab, coloured by its age against its queue's
// chat_time_limits (green, amber, red, over), as supervisors see it.

import { ageLevel, LEVEL_TEXT } from '../lib/chat-time.js';
import { duration } from '../lib/util.js';

/**
 * Colours the tabs of the agent's live chats now and every second.
 * @param {import('./chats.js').Chats} chats
 * @param {import('./status.js').StatusControl} status
 * @param {import('../lib/util.js').ServerClock} clock
 */
export function colourChatTimes(chats, status, clock) {
  const paint = () => {
    for (const [id, s] of chats.sessions) {
      const tab = chats.byId(id)?.tab;
      if (!tab) continue;
      const since = s.closed ? null : s.conv.accepted_at;
      if (!since) {
        if (tab.dataset.level) {
          delete tab.dataset.level;
          tab.removeAttribute('title');
        }
        continue;
      }
      const age = clock.since(since);
      const queue = /** @type {{chat_time_limits?: number[]} | undefined} */ (status.queues.find((q) => q.id === s.conv.queue.id));
      const level = ageLevel(age, queue?.chat_time_limits);
      tab.dataset.level = level;
      tab.title = `Chat time ${duration(age)}${LEVEL_TEXT[level] ? ` (${LEVEL_TEXT[level]})` : ''}`;
    }
  };
  paint();
  setInterval(paint, 1000);
}
