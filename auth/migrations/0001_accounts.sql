CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9._-]{2,64}$'),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    role          text NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Sessions are opaque tokens; only their SHA-256 is stored, so a copy of
-- the table does not let anyone sign in.
CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- The key that signs visitor and guest tokens, made on first start so that
-- tokens survive a restart and are shared by every node.
CREATE TABLE signing_keys (
    id         smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    secret     bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
