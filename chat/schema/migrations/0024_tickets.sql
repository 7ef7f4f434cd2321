-- Tickets (issue 19): work that outlives a chat (chat/crm/tickets.go;
-- docs/protocol.md, "Tickets (staff)").
CREATE TABLE tickets (
    id              bigserial PRIMARY KEY,
    title           text NOT NULL,
    state           text NOT NULL DEFAULT 'unassigned' CHECK (state IN ('unassigned', 'assigned', 'closed')),
    priority        text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    -- The queue whose members work it (who may see it: docs/protocol.md).
    queue_id        bigint NOT NULL REFERENCES queues (id),
    contact_id      bigint REFERENCES contacts (id) ON DELETE SET NULL,
    -- The agent it is assigned to; kept when it closes (who closed it is
    -- in its events), so "closed" still groups by agent.
    assignee_id     bigint REFERENCES users (id) ON DELETE SET NULL,
    -- The chat it came from, if any: its transcript opens the thread.
    conversation_id bigint REFERENCES conversations (id) ON DELETE SET NULL,
    -- How it came: agent (from a chat, by an agent), manual (by hand),
    -- offline (the offline form), max_wait or queue_closed (a chat the
    -- system ended before anyone answered it).
    source          text NOT NULL CHECK (source IN ('agent', 'manual', 'offline', 'max_wait', 'queue_closed')),
    -- Where a reply by e-mail goes (the customer's address then), '' when
    -- none is known.
    email           text NOT NULL DEFAULT '',
    -- The customer's name, for the list and the e-mail's salutation.
    customer_name   text NOT NULL DEFAULT '',
    created_by      bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    closed_at       timestamptz,
    last_seq        integer NOT NULL DEFAULT 0,
    -- What a text search looks in: lower(title, customer name, e-mail),
    -- written by chat/crm with every change.
    search          text NOT NULL DEFAULT ''
);
CREATE INDEX tickets_queue ON tickets (queue_id, state, updated_at DESC);
CREATE INDEX tickets_assignee ON tickets (assignee_id, state, updated_at DESC) WHERE assignee_id IS NOT NULL;
CREATE INDEX tickets_contact ON tickets (contact_id, id DESC) WHERE contact_id IS NOT NULL;
CREATE INDEX tickets_search ON tickets USING gin (search gin_trgm_ops);
-- One ticket per chat the system ended or offline message, made again by
-- no retry.
CREATE UNIQUE INDEX tickets_from_system ON tickets (conversation_id)
    WHERE source IN ('offline', 'max_wait', 'queue_closed');

-- A ticket's thread after the chat it came from: numbered without gaps.
-- channel and direction leave room for inbound channels (an e-mail the
-- customer sends back, a form) without another table.
CREATE TABLE ticket_events (
    ticket_id   bigint NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    seq         integer NOT NULL,
    -- created, reply (to or from the customer), note (staff only),
    -- assigned, unassigned, closed, reopened, linked (a chat was linked),
    -- changed (title or priority)
    kind        text NOT NULL,
    -- reply: email (today) or another channel later; '' for the rest.
    channel     text NOT NULL DEFAULT '',
    -- reply: out (to the customer) or in (from them).
    direction   text NOT NULL DEFAULT '' CHECK (direction IN ('', 'out', 'in')),
    author_kind text NOT NULL CHECK (author_kind IN ('customer', 'agent', 'system')),
    author_id   bigint REFERENCES users (id) ON DELETE SET NULL,
    author_name text NOT NULL DEFAULT '',
    text        text NOT NULL DEFAULT '',
    -- Structured detail: {"assignee": {"id": 2, "name": "Bob"}}, {"to":
    -- "vera@example.com", "mail_id": 17}, {"conversation_id": 42}, …
    data        jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ticket_id, seq)
);

-- Each user's starred tickets (the ticket widget's "favourites").
CREATE TABLE ticket_favourites (
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ticket_id bigint NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, ticket_id)
);

-- The ticket a chat is linked to ("assign the ticket to the chat"): the
-- desk then shows its details beside the chat.
ALTER TABLE conversations ADD COLUMN ticket_id bigint REFERENCES tickets (id) ON DELETE SET NULL;
CREATE INDEX conversations_ticket ON conversations (ticket_id) WHERE ticket_id IS NOT NULL;
