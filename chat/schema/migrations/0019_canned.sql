-- Canned responses (issue 18): a queue's ready-made replies, managed by
-- admins, read by the queue's members in the desk (chat/queues/canned.go).
CREATE TABLE canned_responses (
    id         bigserial PRIMARY KEY,
    queue_id   bigint NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    title      text NOT NULL,
    text       text NOT NULL,
    -- The order in the queue's list: ascending, then by id.
    position   integer NOT NULL DEFAULT 0,
    created_by bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint REFERENCES users (id) ON DELETE SET NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX canned_responses_queue ON canned_responses (queue_id, position, id);
