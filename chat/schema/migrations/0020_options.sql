-- Structured options (chat/conversation/options.go): an agent's message
-- may be a question with 2–6 options ([{"id":1,"label":"Yes"}, …]); the
-- customer's answer is a message whose choice_of is the question's seq
-- and choice_option the option's id. A question is answered once.
ALTER TABLE conversation_events ADD COLUMN options jsonb,
    ADD COLUMN choice_of integer,
    ADD COLUMN choice_option integer;
CREATE UNIQUE INDEX conversation_events_choice ON conversation_events (conversation_id, choice_of)
    WHERE choice_of IS NOT NULL;
