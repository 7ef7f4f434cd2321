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
-- words; names and addresses are not English. chat/search's contactSQL
-- is this expression.
CREATE INDEX conversations_contact ON conversations
    USING gin (to_tsvector('simple', translate(customer_name || ' ' || customer_email, '@.-_+', '     ')));

-- The text filter: the words of every event (messages, private
-- messages, comments; events without text have none), whatever its
-- kind. 'simple' because customers write in any language: a word
-- matches itself, lower-cased, never a stem of another language's
-- grammar. Not a partial index: the planner reads the statistics of an
-- index's expression only when the index covers the whole table, and
-- with them it can tell a common word (walk the newest conversations,
-- test each) from a rare one (the index first).
CREATE INDEX conversation_events_text ON conversation_events USING gin (to_tsvector('simple', text));
