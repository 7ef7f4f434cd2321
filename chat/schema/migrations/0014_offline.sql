-- The offline form (issue 17): what a customer sends when no chat can be
-- had is stored as a conversation in state 'offline' (its message the
-- first event), never routed, never open to more messages, found in the
-- history; a ticket once tickets exist.
ALTER TABLE conversations DROP CONSTRAINT conversations_state_check;
ALTER TABLE conversations ADD CONSTRAINT conversations_state_check
    CHECK (state IN ('queued', 'offered', 'active', 'closed', 'offline'));
