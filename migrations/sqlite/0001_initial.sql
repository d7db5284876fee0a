-- Secrets: one row per secret per Region. A replica is a row of its own that points at its
-- primary (replica_of) and shows the primary's versions.
CREATE TABLE secrets (
    id               TEXT PRIMARY KEY,
    region           TEXT NOT NULL,
    name             TEXT NOT NULL,
    arn              TEXT NOT NULL UNIQUE,
    replica_of       TEXT REFERENCES secrets (id),
    created_at       INTEGER NOT NULL,
    deleted_at       INTEGER,
    last_accessed_at INTEGER,
    revision         INTEGER NOT NULL,
    metadata         TEXT NOT NULL,
    UNIQUE (region, name)
);
CREATE INDEX secrets_due_for_purge ON secrets (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX secrets_replica_of ON secrets (replica_of) WHERE replica_of IS NOT NULL;

-- Versions. value is AES-256-GCM ciphertext (crypto.rs); value_kind NULL marks the
-- value-less placeholder a rotation creates.
CREATE TABLE secret_versions (
    secret_id        TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    version_id       TEXT NOT NULL,
    stages           TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    last_accessed_at INTEGER,
    value_kind       TEXT,
    value            BLOB,
    PRIMARY KEY (secret_id, version_id)
);

-- Access keys; the secret part sealed under the master key.
CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    user_name     TEXT NOT NULL,
    secret_sealed BLOB NOT NULL,
    status        TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
