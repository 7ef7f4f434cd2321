-- Contacts, more (issue 19): the contact a chat.pair named, kept with its
-- private contact_paired event ({"id": 12, "name": "Vera Visitor"}), so
-- a resume or the history shows the name it had then
-- (chat/conversation/pairing.go).
ALTER TABLE conversation_events ADD COLUMN contact jsonb;

-- contact.search's order when thousands match (a first name): the matches
-- nearest the query first (word similarity, pg_trgm's <->>), which a GiST
-- index gives in order, stopping at the page's end; 0023's GIN index can
-- only find them all, and ranking them took 50–150 ms over 100,000
-- contacts. On lower(search) (search is lower-cased already), so that
-- each statement of chat/crm's search names the index it is quick with
-- (docs/benchmarks.md, "Contact search"). A signature of 256 bytes: the
-- default 12 fill up with a contact's 60–100 trigrams, and the nearest
-- of a common surname's start then took 40–60 ms to find instead of 1–12.
CREATE INDEX contacts_search_near ON contacts USING gist (lower(search) gist_trgm_ops (siglen = 256));
