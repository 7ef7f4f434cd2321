-- Supervisors hear of a chat that waits longer than its queue's
-- wait_alert_seconds; wait_alert_at says when they were told, so each
-- chat is told once. A chat the customer ended while an agent had it
-- waits for the agent's wrap-up (a close status): wrap_up_due.
ALTER TABLE queues ADD COLUMN wait_alert_seconds integer NOT NULL DEFAULT 60
    CHECK (wait_alert_seconds BETWEEN 1 AND 3600);
ALTER TABLE conversations ADD COLUMN wait_alert_at timestamptz;
ALTER TABLE conversations ADD COLUMN wrap_up_due boolean NOT NULL DEFAULT false;
CREATE INDEX conversations_wrap_up ON conversations (agent_id) WHERE wrap_up_due;
-- The chats not alerted yet, oldest first: the router reads only those
-- past the shortest threshold.
CREATE INDEX conversations_wait_alert ON conversations (queued_at)
    WHERE state IN ('queued', 'offered') AND wait_alert_at IS NULL;
-- An expired offer reads the agent's last answers to count misses in a row.
CREATE INDEX offers_user_ended ON offers (user_id, ended_at DESC) WHERE state IN ('accepted', 'rejected', 'expired');
-- The router reads the offers turned down within the cool-down, however
-- many chats wait.
CREATE INDEX offers_turned_down ON offers (ended_at) WHERE state IN ('rejected', 'expired');
