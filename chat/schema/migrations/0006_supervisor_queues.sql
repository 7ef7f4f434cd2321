-- The queues an admin gives a supervisor. A supervisor with no row here
-- supervises every queue (the default); with rows, only those queues.
CREATE TABLE supervisor_queues (
    user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    queue_id bigint NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, queue_id)
);
CREATE INDEX supervisor_queues_queue ON supervisor_queues (queue_id);
