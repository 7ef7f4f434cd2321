-- The supervisor's floor (chat/floor). A queue's service level counts the
-- chats answered within service_level_seconds; chat_time_limits are the
-- ages (2 or 3, ascending, in seconds) at which a live chat turns amber,
-- red and (a third) over, and past the last of which an agent without a
-- chat is idle.
ALTER TABLE queues ADD COLUMN service_level_seconds integer NOT NULL DEFAULT 20
    CHECK (service_level_seconds BETWEEN 1 AND 3600);
ALTER TABLE queues ADD COLUMN chat_time_limits integer[] NOT NULL DEFAULT '{300,600,900}'
    CHECK (cardinality(chat_time_limits) BETWEEN 2 AND 3);

-- The floor's figures of a day read the chats closed, answered or queued
-- that day.
CREATE INDEX conversations_closed_at ON conversations (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX conversations_accepted_at ON conversations (accepted_at) WHERE accepted_at IS NOT NULL;

-- What the floor shows changed: every node's floor LISTENs on
-- parley_floor while a supervisor watches, and recomputes (at most once a
-- second per scope). The payload is the queue a chat is in ('q' and its
-- id) or '*' (an agent's status, a team, a queue's settings or members).
-- A message (which moves only last_seq) notifies nothing.
CREATE FUNCTION parley_floor_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('parley_floor', 'q' || NEW.queue_id);
    IF TG_OP = 'UPDATE' AND OLD.queue_id <> NEW.queue_id THEN
        PERFORM pg_notify('parley_floor', 'q' || OLD.queue_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER floor_conversation_insert AFTER INSERT ON conversations
    FOR EACH ROW EXECUTE FUNCTION parley_floor_conversation();
CREATE TRIGGER floor_conversation_update AFTER UPDATE ON conversations
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.agent_id IS DISTINCT FROM NEW.agent_id
        OR OLD.queue_id IS DISTINCT FROM NEW.queue_id OR OLD.wrap_up_due IS DISTINCT FROM NEW.wrap_up_due
        OR OLD.accepted_at IS DISTINCT FROM NEW.accepted_at OR OLD.closed_at IS DISTINCT FROM NEW.closed_at
        OR OLD.queued_at IS DISTINCT FROM NEW.queued_at)
    EXECUTE FUNCTION parley_floor_conversation();

CREATE FUNCTION parley_floor_any() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('parley_floor', '*');
    RETURN NULL;
END $$;
CREATE TRIGGER floor_agent_status AFTER INSERT OR UPDATE ON agent_status
    FOR EACH ROW EXECUTE FUNCTION parley_floor_any();
CREATE TRIGGER floor_team AFTER INSERT OR DELETE ON conversation_agents
    FOR EACH ROW EXECUTE FUNCTION parley_floor_any();
CREATE TRIGGER floor_members AFTER INSERT OR DELETE ON queue_members
    FOR EACH ROW EXECUTE FUNCTION parley_floor_any();
CREATE TRIGGER floor_queues AFTER INSERT OR DELETE OR UPDATE OF name, capacity, service_level_seconds, chat_time_limits ON queues
    FOR EACH STATEMENT EXECUTE FUNCTION parley_floor_any();
