// @ts-check
// The types the supervisor console's modules share.

/**
 * What every module of the console is given.
 * @typedef {object} Ctx
 * @property {import('../lib/parley.js').Connection} conn the page's one connection
 * @property {{id: number, name: string, role: string}} me who is signed in
 * @property {(text: string) => void} notices shows a notice at the top of the page
 * @property {(id: number) => void} openChat opens a conversation in the chat pane
 * @property {{chat: HTMLElement, agent: HTMLElement, ticket: HTMLElement}} panes where a chat, an agent and a ticket open
 */

/**
 * The wire's Ticket (docs/protocol.md, "Tickets (staff)").
 * @typedef {object} Ticket
 * @property {number} id
 * @property {string} title
 * @property {'unassigned' | 'assigned' | 'closed'} state
 * @property {'low' | 'normal' | 'high' | 'urgent'} priority
 * @property {{id: number, name: string}} queue
 * @property {{id: number, name: string} | null} contact
 * @property {{id: number, name: string} | null} assignee
 * @property {number | null} conversation_id the chat it came from
 * @property {'agent' | 'manual' | 'offline' | 'max_wait' | 'queue_closed'} source
 * @property {string} email where a reply goes, '' when none is known
 * @property {string} customer_name
 * @property {boolean} favourite
 * @property {string} created_at
 * @property {string} updated_at
 * @property {string | null} closed_at
 * @property {number} last_seq
 */

/**
 * A ticket's event, its thread after the originating chat.
 * @typedef {object} TicketEvent
 * @property {number} ticket_id
 * @property {number} seq
 * @property {'created' | 'reply' | 'note' | 'assigned' | 'unassigned' | 'closed' | 'reopened' | 'linked' | 'unlinked' | 'changed' | string} kind
 * @property {string} [channel] a reply's: email
 * @property {'out' | 'in'} [direction] a reply's: to the customer, or from them
 * @property {{kind: string, name: string}} author
 * @property {string} [text]
 * @property {Record<string, any>} [data]
 * @property {string} time
 */

/**
 * The answer of ticket.counts: what the Tickets list groups by.
 * @typedef {object} TicketCounts
 * @property {number} unassigned
 * @property {{agent: {id: number, name: string}, count: number}[]} assigned
 * @property {{agent: {id: number, name: string} | null, count: number}[]} closed those closed today (UTC)
 */

export {};
