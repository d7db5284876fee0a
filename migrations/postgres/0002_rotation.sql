-- Rotation (issue 3). The next scheduled rotation of a secret, indexed so the scheduler finds
-- due work without reading secrets that are not due.
ALTER TABLE secrets ADD COLUMN rotation_due_at BIGINT;
CREATE INDEX secrets_rotation_due ON secrets (rotation_due_at) WHERE rotation_due_at IS NOT NULL;

-- One row per rotation: the durable job the driver works on. `step` is the next step to run
-- while active; a node owns an active job while lease_expires_at is in the future.
CREATE TABLE rotations (
    id               TEXT PRIMARY KEY,
    secret_id        TEXT NOT NULL,
    secret_arn       TEXT NOT NULL,
    token            TEXT NOT NULL,
    kind             TEXT NOT NULL,
    function_name    TEXT NOT NULL,
    lambda_arn       TEXT NOT NULL,
    state            TEXT NOT NULL,
    step             TEXT NOT NULL,
    attempt          BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    created_at       BIGINT NOT NULL,
    finished_at      BIGINT,
    error            TEXT
);
-- At most one rotation in flight per secret, whichever node starts it.
CREATE UNIQUE INDEX rotations_one_active_per_secret ON rotations (secret_id) WHERE state = 'active';
CREATE INDEX rotations_claimable ON rotations (next_attempt_at) WHERE state = 'active';
CREATE INDEX rotations_by_secret ON rotations (secret_id, created_at);

-- RotationStarted / Succeeded / Failed / Abandoned (and Cancelled), kept per secret.
CREATE TABLE rotation_events (
    seq         BIGSERIAL PRIMARY KEY,
    rotation_id TEXT NOT NULL,
    secret_id   TEXT NOT NULL,
    secret_arn  TEXT NOT NULL,
    token       TEXT NOT NULL,
    event       TEXT NOT NULL,
    step        TEXT,
    attempt     BIGINT NOT NULL,
    duration_ms BIGINT,
    error       TEXT,
    at          BIGINT NOT NULL
);
CREATE INDEX rotation_events_by_secret ON rotation_events (secret_id, seq);

-- Rotation functions by name; `definition` is the function's JSON document (secrets in it
-- sealed under the master key).
CREATE TABLE functions (
    name       TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
