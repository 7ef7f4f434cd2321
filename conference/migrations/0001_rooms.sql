-- Video rooms: a conversation's co-browsing room, or a conference room
-- with a public number. Media state lives in the SFU; this is who may come
-- and whether the room is still open.
CREATE TABLE rooms (
    id              text PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('conversation', 'conference')),
    -- chat's conversation (no foreign key: chat's tables migrate after ours)
    conversation_id bigint,
    number          text UNIQUE,
    name            text NOT NULL DEFAULT '',
    media           text NOT NULL DEFAULT 'video' CHECK (media IN ('video', 'audio')),
    creator_key     text NOT NULL,
    creator_kind    text NOT NULL,
    creator_name    text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    ended_at        timestamptz,
    CHECK ((kind = 'conversation') = (conversation_id IS NOT NULL)),
    CHECK ((kind = 'conference') = (number IS NOT NULL))
);
-- A conversation has at most one open room.
CREATE UNIQUE INDEX rooms_open_conversation ON rooms (conversation_id) WHERE ended_at IS NULL;
CREATE INDEX rooms_open ON rooms (created_at) WHERE ended_at IS NULL;

CREATE TABLE room_invites (
    room_id  text NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state    text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'declined')),
    PRIMARY KEY (room_id, user_id)
);
