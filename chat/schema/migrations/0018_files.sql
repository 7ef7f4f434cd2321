-- Files in chat messages (issue 18): each file's row, its content in
-- chunks of at most 256 KiB (so no node ever holds a file whole), and the
-- files a message carries, on its event. The queue's limits.
CREATE TABLE chat_files (
    id              bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- Who uploaded it (auth.Principal.Key): only they may attach it.
    owner_key       text NOT NULL,
    name            text NOT NULL,
    size            bigint NOT NULL CHECK (size >= 0),
    -- The type sniffed from the content, never the name's or the client's.
    type            text NOT NULL,
    image           boolean NOT NULL DEFAULT false,
    -- The message it went with: NULL while pending (uploaded, not sent).
    seq             integer,
    private         boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chat_files_message ON chat_files (conversation_id, seq);

CREATE TABLE chat_file_chunks (
    file_id bigint NOT NULL REFERENCES chat_files (id) ON DELETE CASCADE,
    n       integer NOT NULL,
    data    bytea NOT NULL,
    PRIMARY KEY (file_id, n)
);

-- [{"id": 7, "name": "a.pdf", "size": 1234, "type": "application/pdf", "image": false}, …]
ALTER TABLE conversation_events ADD COLUMN files jsonb;

ALTER TABLE queues
    ADD COLUMN file_max_bytes bigint NOT NULL DEFAULT 20971520
        CHECK (file_max_bytes BETWEEN 1024 AND 104857600),
    ADD COLUMN file_types text[] NOT NULL DEFAULT '{images,pdf,text,office,audio,video}';
