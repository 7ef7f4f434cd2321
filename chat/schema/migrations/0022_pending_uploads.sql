-- Uploads never sent with a message are deleted after a day
-- (conversation.SweepUploads, from the router's loop): this index holds
-- the pending ones by age, so the sweep reads nothing else.
CREATE INDEX chat_files_pending ON chat_files (created_at) WHERE seq IS NULL;
