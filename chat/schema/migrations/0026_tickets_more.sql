-- Tickets (issue 19): a chat's private ticket_linked event names the
-- ticket linked, {"id": 7, "title": "Parcel never arrived"}, NULL when the
-- chat was unlinked (chat/conversation/ticket_link.go), as on every other
-- event.
ALTER TABLE conversation_events ADD COLUMN ticket jsonb;
