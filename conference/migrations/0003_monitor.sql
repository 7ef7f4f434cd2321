-- Screen monitoring: a supervisor asks to see an agent's screen; the agent
-- consents and shares it in a room of its own, kind 'monitor', which the
-- agent publishes in and only that supervisor (watcher_key) watches.
ALTER TABLE rooms DROP CONSTRAINT rooms_kind_check;
ALTER TABLE rooms ADD CONSTRAINT rooms_kind_check CHECK (kind IN ('conversation', 'conference', 'monitor'));
ALTER TABLE rooms ADD COLUMN watcher_key text;
ALTER TABLE rooms ADD CONSTRAINT rooms_monitor_watcher CHECK ((kind = 'monitor') = (watcher_key IS NOT NULL));

-- One request to see an agent's screen: pending until the agent answers,
-- live while the screen is shown, ended once either stops (or declines,
-- or disconnects, or the request expires).
CREATE TABLE monitors (
    id            bigserial PRIMARY KEY,
    supervisor_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    agent_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    supervisor_name text NOT NULL,
    agent_name    text NOT NULL,
    room_id       text REFERENCES rooms (id),
    state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'live', 'ended')),
    reason        text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    ended_at      timestamptz,
    CHECK ((state = 'live') <= (room_id IS NOT NULL))
);
-- An agent's screen is asked for, or shown, once at a time.
CREATE UNIQUE INDEX monitors_open_agent ON monitors (agent_id) WHERE state <> 'ended';
