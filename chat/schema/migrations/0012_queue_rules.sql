-- The rules a queue enforces (issue 17), as an admin sets them. Each
-- column's meaning is the queue setting of the same name in
-- docs/protocol.md ("Administration"); the behaviour behind each lives in
-- chat/routing, chat/conversation and the widget.
ALTER TABLE queues
    -- A disabled queue keeps its history; nothing is routed, the widget is offline.
    ADD COLUMN disabled boolean NOT NULL DEFAULT false,
    -- Opening hours: NULL is always open; else {"mon": [{"from": "09:00", "to": "17:00"}], …}
    -- in time_zone, a day absent or [] closed. Holidays: [{"date": "2026-12-24", "name": "…"}].
    ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC',
    ADD COLUMN hours jsonb,
    ADD COLUMN holidays jsonb NOT NULL DEFAULT '[]',
    -- What the widget says outside hours (or disabled), and when the queue is full.
    ADD COLUMN offline_message text NOT NULL DEFAULT '',
    ADD COLUMN unavailable_message text NOT NULL DEFAULT '',
    -- The offline form (name, e-mail, message), and where its messages are mailed.
    ADD COLUMN offline_form boolean NOT NULL DEFAULT false,
    ADD COLUMN offline_email text NOT NULL DEFAULT '',
    -- 0 is no limit.
    ADD COLUMN max_waiting integer NOT NULL DEFAULT 0 CHECK (max_waiting BETWEEN 0 AND 100000),
    ADD COLUMN max_wait_seconds integer NOT NULL DEFAULT 0 CHECK (max_wait_seconds BETWEEN 0 AND 86400),
    -- 0 is off: a customer who left is never closed by the system.
    ADD COLUMN auto_finish_seconds integer NOT NULL DEFAULT 0 CHECK (auto_finish_seconds BETWEEN 0 AND 86400),
    -- What missed offers do to the agent: 'pause' (after routing.MissesBeforePause
    -- in a row) or 'ignore' (the agent stays available).
    ADD COLUMN missed_offers text NOT NULL DEFAULT 'pause' CHECK (missed_offers IN ('pause', 'ignore')),
    -- Only customers whose identity the company's backend signed may start a chat.
    ADD COLUMN verified_only boolean NOT NULL DEFAULT false;
