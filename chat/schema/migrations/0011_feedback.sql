-- Feedback: a queue may ask the customer, once the chat has ended, to
-- rate it 1–5 with an optional note (chat.feedback). The conversation
-- keeps it (NULL until given); the private event of kind 'feedback'
-- carries the rating too, so live views and transcripts show it.
ALTER TABLE queues ADD COLUMN feedback boolean NOT NULL DEFAULT false;
-- The demo queue asks for feedback in the demo.
UPDATE queues SET feedback = true WHERE key = 'demo';
ALTER TABLE conversations ADD COLUMN feedback_rating smallint CHECK (feedback_rating BETWEEN 1 AND 5),
    ADD COLUMN feedback_comment text,
    ADD COLUMN feedback_at timestamptz;
ALTER TABLE conversation_events ADD COLUMN rating smallint;
