-- Access control (issue 6). IAM users: names are unique without regard to case, as in IAM.
CREATE TABLE iam_users (
    user_name  TEXT PRIMARY KEY,
    name_key   TEXT NOT NULL UNIQUE,
    user_id    TEXT NOT NULL UNIQUE,
    path       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX access_keys_by_user ON access_keys (user_name);

-- Inline policies of users (PutUserPolicy); the document as the caller sent it.
CREATE TABLE iam_user_policies (
    user_name   TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    document    TEXT NOT NULL,
    PRIMARY KEY (user_name, policy_name)
);

-- The audit trail: one CloudTrail-shaped JSON record per API call and rotation event. The
-- columns beside it are what `tumbler admin audit` filters on.
CREATE TABLE audit_events (
    seq         BIGSERIAL PRIMARY KEY,
    event_id    TEXT NOT NULL UNIQUE,
    event_time  BIGINT NOT NULL,
    event_name  TEXT NOT NULL,
    user_name   TEXT,
    secret_arn  TEXT,
    secret_name TEXT,
    error_code  TEXT,
    record      TEXT NOT NULL
);
CREATE INDEX audit_events_by_time ON audit_events (event_time);
