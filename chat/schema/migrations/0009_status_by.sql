-- Who set an agent's status when it was not the agent: a supervisor who
-- paused it or signed it out (agent.pause, agent.logout). NULL when the
-- agent set it, or the server did (a missed offer).
ALTER TABLE agent_status ADD COLUMN by_user_id bigint REFERENCES users (id) ON DELETE SET NULL;
