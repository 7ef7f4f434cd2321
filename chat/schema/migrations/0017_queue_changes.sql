-- The queues' change log (issue 17): one row per admin's save that changed
-- something, written in the transaction of the save (chat/queues/changes.go).
CREATE TABLE queue_changes (
    id              bigserial PRIMARY KEY,
    queue_id        bigint NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    at              timestamptz NOT NULL DEFAULT now(),
    -- Who saved, and their name then (kept when the account is renamed or removed).
    user_id         bigint REFERENCES users (id) ON DELETE SET NULL,
    user_name       text NOT NULL,
    -- The save made the queue.
    created         boolean NOT NULL DEFAULT false,
    -- [{"field": "title", "old": "Chat with us", "new": "Talk to us"}, …]; old is null when created.
    fields          jsonb NOT NULL DEFAULT '[]',
    members_added   text[] NOT NULL DEFAULT '{}',
    members_removed text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX queue_changes_queue ON queue_changes (queue_id, id DESC);
