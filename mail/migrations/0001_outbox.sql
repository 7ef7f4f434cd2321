-- The e-mail outbox: a message is written here in the same transaction as
-- what causes it (an offline message, a ticket reply…), and the sender
-- (mail.Sender) delivers it over SMTP afterwards, retrying with backoff.
-- A row is sent at most once: the sender claims it (attempts, next_at)
-- before it sends, and marks it sent after.
CREATE TABLE mail_outbox (
    id          bigserial PRIMARY KEY,
    -- what caused it, for the admin console: e.g. 'offline' and the conversation id
    cause       text NOT NULL DEFAULT '',
    cause_id    bigint,
    to_addrs    text[] NOT NULL CHECK (cardinality(to_addrs) > 0),
    reply_to    text NOT NULL DEFAULT '',
    subject     text NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- 'pending' (to send at next_at), 'sent', or 'failed' (gave up)
    state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts    integer NOT NULL DEFAULT 0,
    next_at     timestamptz NOT NULL DEFAULT now(),
    last_error  text NOT NULL DEFAULT '',
    sent_at     timestamptz
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_at) WHERE state = 'pending';
