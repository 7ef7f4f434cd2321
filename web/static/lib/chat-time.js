// @ts-check
// A live chat's age against its queue's chat_time_limits (2 or 3
// ascending ages in seconds): green below the first, amber from the
// first, red from the second, "over" from a third. The desk and the
// supervisor console colour chats by it.

/** @typedef {'green' | 'amber' | 'red' | 'over'} AgeLevel */

/** What each level says to someone who cannot see the colour. */
export const LEVEL_TEXT = /** @type {Record<AgeLevel, string>} */ ({
  green: '',
  amber: 'long',
  red: 'too long',
  over: 'over',
});

/**
 * The level of a chat ageMs old under limits (seconds).
 * @param {number} ageMs
 * @param {number[] | undefined} limits
 * @returns {AgeLevel}
 */
export function ageLevel(ageMs, limits) {
  if (!limits || limits.length < 2) return 'green';
  const s = ageMs / 1000;
  if (limits.length > 2 && s >= limits[2]) return 'over';
  if (s >= limits[1]) return 'red';
  if (s >= limits[0]) return 'amber';
  return 'green';
}
