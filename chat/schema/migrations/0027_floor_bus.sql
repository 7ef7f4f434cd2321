-- The floor (chat/floor) hears of the chats' changes from the chat
-- service on the bus (chat/conversation/floor_changes.go) after each commit, whichever
-- node made it. The triggers of 0007 on the per-chat tables go: a
-- transaction that NOTIFYs holds PostgreSQL's global notify lock from its
-- commit until the commit is flushed, so every chat's start, offer,
-- accept and close committed one at a time. agent_status goes too (its
-- trigger fired on every accept and close, which move last_activity_at;
-- a status change is told by the router). The triggers of queues and
-- queue_members stay: admin changes, rare, some made by cascades the Go
-- code does not see.
DROP TRIGGER floor_conversation_insert ON conversations;
DROP TRIGGER floor_conversation_update ON conversations;
DROP FUNCTION parley_floor_conversation();
DROP TRIGGER floor_team ON conversation_agents;
DROP TRIGGER floor_agent_status ON agent_status;
