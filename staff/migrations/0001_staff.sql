-- Staff messages: one thread per pair of users (user_a < user_b, so a pair
-- has one row), numbered 1, 2, 3… by last_seq under the thread's row lock.
CREATE TABLE staff_threads (
    id         bigserial PRIMARY KEY,
    user_a     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_b     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    last_seq   bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_at    timestamptz,
    CHECK (user_a < user_b),
    UNIQUE (user_a, user_b)
);
CREATE INDEX staff_threads_user_b ON staff_threads (user_b);

-- A client_id is stored once per author and thread: a resend gets the
-- first's seq.
CREATE TABLE staff_messages (
    thread_id  bigint NOT NULL REFERENCES staff_threads (id) ON DELETE CASCADE,
    seq        bigint NOT NULL,
    author_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 64),
    text       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (thread_id, seq),
    UNIQUE (thread_id, author_id, client_id)
);

-- Each member of a thread and how far it has read: a thread's two rows are
-- made with it, so they are also who is in it.
CREATE TABLE staff_reads (
    thread_id bigint NOT NULL REFERENCES staff_threads (id) ON DELETE CASCADE,
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    read_seq  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (thread_id, user_id)
);
CREATE INDEX staff_reads_user ON staff_reads (user_id);
