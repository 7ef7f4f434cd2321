-- History search (chat/search). A supervisor marks a conversation
-- important; it is a filter of the search too.
ALTER TABLE conversations ADD COLUMN important boolean NOT NULL DEFAULT false;

-- Results come newest first and page by (queued_at, id): the whole
-- history in that order, and each queue's.
CREATE INDEX conversations_started ON conversations (queued_at DESC, id DESC);
CREATE INDEX conversations_queue_started ON conversations (queue_id, queued_at DESC, id DESC);

-- The contact filter: the words of the customer's name and e-mail, the
-- address cut at its punctuation (jo.smith@example.com: jo, smith,
-- example, com), each found by prefix. 'simple': no stemming, no stop
-- words; names and addresses are not English. Stored, so that a search
-- walking the newest conversations does not parse them again.
ALTER TABLE conversations ADD COLUMN contact_words tsvector GENERATED ALWAYS AS
    (to_tsvector('simple', translate(customer_name || ' ' || customer_email, '@.-_+', '     '))) STORED;
CREATE INDEX conversations_contact ON conversations USING gin (contact_words);

-- The text filter: the words of every event (messages, private
-- messages, comments; events without text have none), whatever its
-- kind, kept beside the text (words) so that neither the search's test
-- of a conversation's events nor the index's recheck parses the text
-- again. 'simple' because customers write in any language: a word
-- matches itself, lower-cased, never a stem of another language's
-- grammar. A search tests the newest conversations' events first and
-- asks the index for older ones when the words are rare (chat/search,
-- find).
ALTER TABLE conversation_events ADD COLUMN words tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED;
CREATE INDEX conversation_events_words ON conversation_events USING gin (words);

-- Important conversations are few: newest first, on their own.
CREATE INDEX conversations_important ON conversations (queued_at DESC, id DESC) WHERE important;
