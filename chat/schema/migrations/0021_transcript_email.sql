-- The transcript by e-mail: a queue sends the customer the chat's public
-- transcript never ('off'), when asked after the chat ('ask':
-- chat.transcript_email) or whenever a chat ends ('always'). A
-- conversation's transcript is mailed once: transcript_sent_at is when it
-- was put in the outbox.
ALTER TABLE queues ADD COLUMN transcript_email text NOT NULL DEFAULT 'off'
    CHECK (transcript_email IN ('off', 'ask', 'always'));
ALTER TABLE conversations ADD COLUMN transcript_sent_at timestamptz;
