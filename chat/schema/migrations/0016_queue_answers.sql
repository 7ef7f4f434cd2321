-- The queue's recent answer times, from which a waiting customer's
-- estimated wait is made (chat/routing/position.go): the chats of one
-- queue accepted since a moment, read by (queue_id, accepted_at).
CREATE INDEX conversations_queue_accepted ON conversations (queue_id, accepted_at) WHERE accepted_at IS NOT NULL;
