-- The token buckets of the limits that hold across nodes (PGLimiter):
-- sign-ins per address, wrong room numbers. A bucket is its tokens as of
-- at; what has been refilled since is computed when it is read.
CREATE TABLE rate_limits (
    name   text NOT NULL,
    key    text NOT NULL,
    tokens double precision NOT NULL,
    at     timestamptz NOT NULL,
    PRIMARY KEY (name, key)
);
CREATE INDEX rate_limits_at ON rate_limits (at);
