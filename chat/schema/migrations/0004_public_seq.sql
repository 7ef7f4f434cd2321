-- Customers see a numbering of their own: public_seq counts only the
-- events that are not private, so the customer's sequence has no gaps
-- where staff wrote privately. Private events have none.
ALTER TABLE conversations ADD COLUMN last_public_seq integer NOT NULL DEFAULT 0;
ALTER TABLE conversation_events ADD COLUMN public_seq integer;
UPDATE conversation_events e SET public_seq = n.public_seq
FROM (SELECT conversation_id, seq, row_number() OVER (PARTITION BY conversation_id ORDER BY seq) AS public_seq
      FROM conversation_events WHERE NOT private) n
WHERE e.conversation_id = n.conversation_id AND e.seq = n.seq;
UPDATE conversations c SET last_public_seq = m.n
FROM (SELECT conversation_id, max(public_seq) AS n FROM conversation_events GROUP BY conversation_id) m
WHERE c.id = m.conversation_id AND m.n IS NOT NULL;
ALTER TABLE conversation_events ADD CONSTRAINT conversation_events_public
    CHECK ((public_seq IS NULL) = private);
CREATE UNIQUE INDEX conversation_events_public_seq ON conversation_events (conversation_id, public_seq)
    WHERE public_seq IS NOT NULL;
