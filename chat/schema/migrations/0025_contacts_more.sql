-- Contacts, more (issue 19): the contact a chat.pair named, kept with its
-- private contact_paired event ({"id": 12, "name": "Vera Visitor"}), so
-- a resume or the history shows the name it had then
-- (chat/conversation/pairing.go).
ALTER TABLE conversation_events ADD COLUMN contact jsonb;
