-- An account is deactivated (disabled) by an admin, never deleted: the
-- history keeps its name. deactivated_at says since when; an account
-- deactivated before this column existed counts from its creation.
-- last_sign_in_at is the last successful POST /api/login.
ALTER TABLE users
    ADD COLUMN deactivated_at  timestamptz,
    ADD COLUMN last_sign_in_at timestamptz;
UPDATE users SET deactivated_at = created_at WHERE disabled;
