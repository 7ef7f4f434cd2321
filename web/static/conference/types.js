// @ts-check
// The shapes of docs/protocol.md ("Rooms") that the conference page reads.
// Types only: import them with import('./types.js').Name.

/**
 * @typedef {import('../room/room.js').Room} Room the protocol's Room (room.js has its shape)
 *
 * @typedef {{room: Room, from: {id: number, name: string}}} Invited
 * @typedef {{room_id: string, user: {id: number, name: string}}} Declined
 * @typedef {{room_id: string, reason: 'ended' | 'empty' | string}} Ended
 */

export {};
