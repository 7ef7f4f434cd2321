-- With many nodes, a live room's SFU runs on one node: its host. NULL
-- while the room is not live anywhere (never joined yet, or its host
-- released it); the next join chooses a host (conference.Host).
ALTER TABLE rooms ADD COLUMN node_id text;
CREATE INDEX rooms_open_host ON rooms (node_id) WHERE ended_at IS NULL;
