-- The rules a queue enforces (issue 17): the system ends chats (max wait,
-- the queue closing, a customer who left), with the reason on the closed
-- event; the timers behind them are columns the router's tick reads.

-- A chat the system ended: closed_by 'system'.
ALTER TABLE conversations DROP CONSTRAINT conversations_closed_by_check;
ALTER TABLE conversations ADD CONSTRAINT conversations_closed_by_check
    CHECK (closed_by IN ('customer', 'agent', 'system'));

-- When the customer's last connection ended (cleared when one comes back):
-- auto finish closes an open chat whose customer has been gone longer than
-- its queue's auto_finish_seconds. Set only on open chats.
ALTER TABLE conversations ADD COLUMN customer_left_at timestamptz;
CREATE INDEX conversations_customer_left ON conversations (customer_left_at)
    WHERE customer_left_at IS NOT NULL AND state <> 'closed';
-- The open chats of a queue (auto finish marks those whose customer is not
-- connected): the history's closed chats are not read.
CREATE INDEX conversations_open ON conversations (queue_id) WHERE state <> 'closed';

-- Why the system ended a chat ('max_wait', 'queue_closed', 'auto_finish'),
-- on its closed event, and the rule's limit then (max_wait_seconds or
-- auto_finish_seconds), which the desk says; NULL on every other event.
ALTER TABLE conversation_events
    ADD COLUMN reason text CHECK (reason IN ('max_wait', 'queue_closed', 'auto_finish')),
    ADD COLUMN limit_seconds integer;

-- The waiting chats by queue and age (max wait, hours' end) are
-- conversations_waiting (queue_id, queued_at) of 0001.
