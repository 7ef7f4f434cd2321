-- Comments on a chat (chat.comment): private events of kind 'comment',
-- for staff only, which may mention staff by their login name. The event
-- keeps whom it mentioned ([{id, name}]); NULL for every other event.
ALTER TABLE conversation_events ADD COLUMN mentions jsonb;

-- Each mention of a user, until that user reads it: the unread count of
-- the desk survives a reload. seq is the comment's event.
CREATE TABLE chat_mentions (
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             integer NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    read_at         timestamptz,
    PRIMARY KEY (user_id, conversation_id, seq)
);
CREATE INDEX chat_mentions_unread ON chat_mentions (user_id) WHERE read_at IS NULL;
