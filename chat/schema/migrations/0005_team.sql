-- A chat may have several agents (invites, transfers): conversation_agents
-- holds every agent in the chat now, the lead (conversations.agent_id)
-- included. Each counts the chat toward their capacity while it is active
-- or waits for its wrap-up. Existing chats' agents join their sets.
CREATE TABLE conversation_agents (
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_agents_user ON conversation_agents (user_id);
INSERT INTO conversation_agents (conversation_id, user_id, joined_at)
SELECT id, agent_id, coalesce(accepted_at, queued_at) FROM conversations WHERE agent_id IS NOT NULL;

-- A transfer to a queue moves the chat (queue_id), but the customer's
-- access stays with the widget's queue it started in: origin_queue_id,
-- set by the first such transfer (NULL: the chat never moved).
ALTER TABLE conversations ADD COLUMN origin_queue_id bigint REFERENCES queues (id);

-- Offers are the router's (route), an agent's invitation to a colleague
-- (invite) or an agent's hand-over (transfer), by that agent. At most one
-- invite or transfer is pending per conversation.
ALTER TABLE offers ADD COLUMN kind text NOT NULL DEFAULT 'route' CHECK (kind IN ('route', 'invite', 'transfer'));
ALTER TABLE offers ADD COLUMN by_user_id bigint REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE offers DROP CONSTRAINT offers_state_check;
ALTER TABLE offers ADD CONSTRAINT offers_state_check
    CHECK (state IN ('pending', 'accepted', 'rejected', 'expired', 'taken', 'withdrawn', 'cancelled'));
CREATE UNIQUE INDEX offers_one_team_pending ON offers (conversation_id) WHERE state = 'pending' AND kind <> 'route';

-- Team events name whom they concern: an invited or transfer target.
ALTER TABLE conversation_events ADD COLUMN target_kind text;
ALTER TABLE conversation_events ADD COLUMN target_name text;
