CREATE TABLE queues (
    id              bigserial PRIMARY KEY,
    key             text NOT NULL UNIQUE CHECK (key ~ '^[A-Za-z0-9_-]{3,64}$'),
    name            text NOT NULL,
    title           text NOT NULL DEFAULT 'Chat with us',
    color           text NOT NULL DEFAULT '#2f6fed' CHECK (color ~ '^#[0-9a-fA-F]{6}$'),
    greeting        text NOT NULL DEFAULT '',
    show_agent_name boolean NOT NULL DEFAULT true,
    agent_alias     text NOT NULL DEFAULT '',
    email_mode      text NOT NULL DEFAULT 'optional' CHECK (email_mode IN ('optional', 'required')),
    extra_label     text NOT NULL DEFAULT '',
    extra_mode      text NOT NULL DEFAULT 'hidden' CHECK (extra_mode IN ('hidden', 'optional', 'required')),
    strategy        text NOT NULL DEFAULT 'longest_idle'
                    CHECK (strategy IN ('longest_idle', 'least_busy', 'round_robin', 'ring_all')),
    capacity        integer NOT NULL DEFAULT 3 CHECK (capacity BETWEEN 1 AND 100),
    answer_seconds  integer NOT NULL DEFAULT 20 CHECK (answer_seconds BETWEEN 1 AND 600),
    allowed_origins text[] NOT NULL DEFAULT '{}',
    statuses        text[] NOT NULL DEFAULT '{}',
    rr_last_user    bigint,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE queue_members (
    queue_id bigint NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (queue_id, user_id)
);
CREATE INDEX queue_members_user ON queue_members (user_id);

CREATE TABLE agent_status (
    user_id          bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    status           text NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'paused', 'offline')),
    reason           text NOT NULL DEFAULT '',
    since            timestamptz NOT NULL DEFAULT now(),
    last_activity_at timestamptz
);

CREATE TABLE conversations (
    id                bigserial PRIMARY KEY,
    queue_id          bigint NOT NULL REFERENCES queues (id),
    visitor           text NOT NULL,
    customer_name     text NOT NULL,
    customer_email    text NOT NULL DEFAULT '',
    customer_extra    text NOT NULL DEFAULT '',
    state             text NOT NULL CHECK (state IN ('queued', 'offered', 'active', 'closed')),
    agent_id          bigint REFERENCES users (id),
    queued_at         timestamptz NOT NULL DEFAULT now(),
    accepted_at       timestamptz,
    first_response_at timestamptz,
    closed_at         timestamptz,
    closed_by         text CHECK (closed_by IN ('customer', 'agent')),
    close_status      text,
    last_seq          integer NOT NULL DEFAULT 0
);
-- The router reads the waiting chats of a queue oldest first.
CREATE INDEX conversations_waiting ON conversations (queue_id, queued_at) WHERE state IN ('queued', 'offered');
CREATE INDEX conversations_agent ON conversations (agent_id) WHERE state = 'active';
CREATE INDEX conversations_visitor ON conversations (visitor);
CREATE INDEX conversations_email ON conversations (lower(customer_email)) WHERE customer_email <> '';

-- Every event of a conversation, numbered without gaps. private rows are
-- for staff only; every path to a customer filters on it.
CREATE TABLE conversation_events (
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             integer NOT NULL,
    kind            text NOT NULL,
    author_kind     text NOT NULL CHECK (author_kind IN ('customer', 'agent', 'system')),
    author_key      text NOT NULL DEFAULT '',
    author_name     text NOT NULL DEFAULT '',
    private         boolean NOT NULL DEFAULT false,
    text            text NOT NULL DEFAULT '',
    client_id       text,
    status          text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, seq)
);
-- A resend of the same message (same sender, same client id) is not stored twice.
CREATE UNIQUE INDEX conversation_events_client ON conversation_events (conversation_id, author_key, client_id)
    WHERE client_id IS NOT NULL;

CREATE TABLE offers (
    id              bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state           text NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected', 'expired', 'taken', 'withdrawn')),
    offered_at      timestamptz NOT NULL DEFAULT now(),
    deadline        timestamptz NOT NULL,
    ended_at        timestamptz
);
CREATE INDEX offers_pending ON offers (deadline) WHERE state = 'pending';
CREATE INDEX offers_conversation ON offers (conversation_id);
CREATE UNIQUE INDEX offers_one_pending ON offers (conversation_id, user_id) WHERE state = 'pending';
