-- Who is connected where: a row per principal (its key) per node that
-- holds at least one of its connections. A node writes its own rows when
-- a key's count on it goes 0↔1; the rows of a node that died are deleted
-- by the other nodes (each row by exactly one of them); a node deletes
-- those of its earlier runs at start. node_started tells one run of a
-- node from the next under the same id (cluster_nodes.started_at).
CREATE TABLE cluster_presence (
    node_id      text NOT NULL REFERENCES cluster_nodes (id) ON DELETE CASCADE,
    node_started timestamptz NOT NULL,
    key          text NOT NULL,
    PRIMARY KEY (node_id, node_started, key)
);
-- "is anyone else holding key?"
CREATE INDEX cluster_presence_key ON cluster_presence (key);
