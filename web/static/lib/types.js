// @ts-check
// The shapes of docs/protocol.md ("Chat", "Agents", "Rooms") that the
// pages read, declared once. Types only: import them with
// import('../lib/types.js').Name.

/**
 * @typedef {object} Customer
 * @property {string} name
 * @property {string} email
 * @property {string} extra
 * @property {boolean} [online] staff only
 * @property {string} [external_id] staff only: the customer's id in the company's systems, when signed
 * @property {{id: boolean, name: boolean, email: boolean}} [verified] staff only: which attributes the company's backend signed
 *
 * @typedef {object} Conversation
 * @property {number} id
 * @property {{id: number, name: string}} queue
 * @property {string} state queued, offered, active or closed
 * @property {Customer} customer
 * @property {{id?: string | number, name: string} | null} agent
 * @property {string} queued_at
 * @property {string | null} accepted_at
 * @property {string | null} closed_at
 * @property {string | null} closed_by customer, agent or system
 * @property {string | null} close_status
 * @property {boolean} [wrap_up_due] the customer ended it; its agent still owes a status
 * @property {string} [wait_alert_at] waited past its queue's alert threshold (supervisors are told)
 * @property {boolean} [feedback_given] its customer rated it (chat.feedback)
 * @property {boolean} [important] staff: marked important (chat.mark)
 * @property {string | null} [first_response_at] staff: the first public message of an agent
 * @property {string | null} [awaiting_reply_since] staff: the customer's last public message, while no agent answered it
 * @property {number} last_seq
 *
 * @typedef {{kind: string, name: string}} Author
 *
 * @typedef {object} ChatEvent
 * @property {number} conversation_id
 * @property {number} seq
 * @property {'queued' | 'offered' | 'rejected' | 'missed' | 'accepted' | 'message' | 'closed' | 'wrapped_up' | 'room_created' | 'room_joined' | 'room_left' | 'screen_started' | 'screen_stopped' | 'room_ended' | string} kind
 * @property {Author} author
 * @property {string} [text]
 * @property {boolean} [private]
 * @property {string} [client_id]
 * @property {import('./files.js').FileRef[]} [files] a message's files
 * @property {string} [status]
 * @property {string} [room_id] room events: the room
 * @property {number} [rating] feedback: the customer's rating, 1–5
 * @property {string} [reason] closed by the system: max_wait, queue_closed or auto_finish
 * @property {number} [limit_seconds] closed by the system: the limit of its rule (max_wait_seconds, auto_finish_seconds)
 * @property {string} time
 *
 * @typedef {{conversation: Conversation, events: ChatEvent[]}} WithEvents
 *
 * @typedef {object} Offer
 * @property {Conversation} conversation
 * @property {string} offered_at
 * @property {string} deadline
 *
 * @typedef {{status: 'available' | 'paused' | 'offline', reason: string, since: string, by?: {id: number, name: string}}} AgentStatus
 * @typedef {{id: number, name: string, capacity: number, statuses: string[], chat_time_limits?: number[], service_level_seconds?: number}} AgentQueue
 * @typedef {AgentStatus & {queues: AgentQueue[], open_chats: number, offers?: Offer[]}} AgentState
 *
 * @typedef {'camera' | 'microphone' | 'screen' | 'screen-audio'} Source
 *
 * @typedef {object} Room the protocol's Room object
 * @property {string} id
 * @property {'conversation' | 'conference'} kind
 * @property {number | null} [conversation_id]
 * @property {string | null} [number]
 * @property {string} name
 * @property {{kind: string, name: string}} [created_by]
 * @property {string} [created_at]
 * @property {string | null} [ended_at]
 * @property {'video' | 'audio'} [media]
 *
 * @typedef {{track_id: string, kind: 'audio' | 'video', source: Source, muted: boolean}} WireTrack
 * @typedef {{id: string, name: string, kind: string, receive_only: boolean, tracks?: WireTrack[]}} WireParticipant
 *
 * @typedef {object} JoinAnswer the answer of room.join
 * @property {Room} room
 * @property {string} participant_id
 * @property {boolean} receive_only
 * @property {RTCIceServer[]} ice_servers
 * @property {WireParticipant[]} participants
 *
 * @typedef {{room: Room, from: {id: number, name: string}}} Invited room.invited
 * @typedef {{room_id: string, user: {id: number, name: string}}} Declined room.declined
 * @typedef {{room_id: string, reason: 'ended' | 'empty' | string}} Ended room.ended
 */

export {};

/**
 * Tickets (docs/protocol.md, "Tickets (staff)").
 *
 * @typedef {{id: number, name: string}} TicketPerson
 *
 * @typedef {object} Ticket
 * @property {number} id
 * @property {string} title
 * @property {'unassigned' | 'assigned' | 'closed'} state
 * @property {'low' | 'normal' | 'high' | 'urgent'} priority
 * @property {TicketPerson} queue
 * @property {TicketPerson | null} contact
 * @property {TicketPerson | null} assignee
 * @property {number | null} conversation_id the chat it came from
 * @property {'agent' | 'manual' | 'offline' | 'max_wait' | 'queue_closed'} source
 * @property {string} email where a reply goes, '' when none is known
 * @property {string} customer_name
 * @property {boolean} favourite the caller's own star
 * @property {string} created_at
 * @property {string} updated_at
 * @property {string | null} closed_at
 * @property {number} last_seq
 *
 * @typedef {object} TicketEvent one entry of a ticket's thread after its chat
 * @property {number} ticket_id
 * @property {number} seq
 * @property {'created' | 'reply' | 'note' | 'assigned' | 'unassigned' | 'closed' | 'reopened' | 'linked' | 'changed' | string} kind
 * @property {string} [channel] reply: email
 * @property {'out' | 'in' | ''} [direction] reply: to or from the customer
 * @property {Author} author
 * @property {string} [text]
 * @property {{source?: string, to?: string, assignee?: TicketPerson, conversation_id?: number, fields?: {field: string, old: string, new: string}[]}} [data]
 * @property {string} time
 *
 * @typedef {object} TicketThread the answer of ticket.get
 * @property {Ticket} ticket
 * @property {Conversation | null} conversation the chat it came from
 * @property {ChatEvent[]} transcript that chat's events, private ones too
 * @property {TicketEvent[]} events
 * @property {Conversation[]} chats the chats linked to it
 *
 * @typedef {{id: number, title: string, state: Ticket['state'], priority: Ticket['priority']}} TicketRef a staff Conversation's `ticket`
 * @typedef {Conversation & {ticket?: TicketRef | null}} TicketedConversation
 */

