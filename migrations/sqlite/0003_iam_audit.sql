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

-- The audit trail: CloudTrail-shaped JSON records of API calls and rotation events, stored a
-- batch to a row as the writer writes them (one insert per batch rather than per call). A
-- batch is a JSON array of entries: each record with the fields `tumbler admin audit` filters
-- on. `batch_id` (the first record's event id) makes a retried insert a no-op.
CREATE TABLE audit_batches (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id   TEXT NOT NULL UNIQUE,
    first_time BIGINT NOT NULL,
    last_time  BIGINT NOT NULL,
    records    TEXT NOT NULL
);
CREATE INDEX audit_batches_by_time ON audit_batches (last_time);
