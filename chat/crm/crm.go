// Package crm is who the customers are and the work that outlives a chat:
// contacts (contacts.go), each conversation paired with one by the rule in
// docs/architecture.md ("Contacts and tickets"), and tickets (tickets.go)
// with their threads. It sits under chat/conversation, which pairs a
// starting chat and makes the tickets of chats nobody answered in its own
// transactions, and reads the conversations' tables by SQL alone.
package crm
