-- Video rooms of a conversation write their events to its transcript, and
-- a queue may let customers start calls themselves.
ALTER TABLE conversation_events ADD COLUMN room_id text;
ALTER TABLE queues ADD COLUMN customer_calls boolean NOT NULL DEFAULT false;
-- The demo queue of earlier runs offered calls in the demo: keep it so.
UPDATE queues SET customer_calls = true WHERE key = 'demo';
