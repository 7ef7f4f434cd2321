-- The nodes of a deployment. Each running node beats its heart into its
-- row every second; a node whose heartbeat is older than the TTL, or that
-- has stopped, is not alive. The clock is the database's (now()), so the
-- nodes' own clocks do not matter.
CREATE TABLE cluster_nodes (
    id           text PRIMARY KEY,
    addr         text NOT NULL DEFAULT '',
    media        boolean NOT NULL DEFAULT true,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    stopped_at   timestamptz,
    -- set by the one node that cleaned up after this one, once it died
    reaped_at    timestamptz
);
