-- Verified identity (issue 17): each queue's secret, with which the
-- company's backend signs its customers' attributes (docs/protocol.md,
-- "Verified identity"), and what a conversation's customer had verified.
--
-- A queue has at most one row, made the first time an admin asks for the
-- secret. Rotating moves secret to previous_secret and stamps rotated_at;
-- the previous secret still verifies for an hour after it (chat/queues,
-- SecretGrace), so a company can roll its backend over.
CREATE TABLE queue_secrets (
    queue_id bigint PRIMARY KEY REFERENCES queues (id) ON DELETE CASCADE,
    secret text NOT NULL,
    previous_secret text,
    rotated_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE conversations
    -- The customer's id in the company's systems, as its backend signed it;
    -- NULL when the chat started without a verified identity.
    ADD COLUMN verified_id text,
    -- Whether the customer's name and e-mail came signed (they then replaced
    -- what the pre-chat form held).
    ADD COLUMN verified_name boolean NOT NULL DEFAULT false,
    ADD COLUMN verified_email boolean NOT NULL DEFAULT false;
