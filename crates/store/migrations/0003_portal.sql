-- The portal: local users, their sessions and API tokens, login attempts (for
-- rate limiting) and the settings an administrator edits.
--
-- Secrets are never stored as given: passwords as argon2id PHC strings,
-- session ids and API tokens as the hex SHA-256 of the random value the
-- client holds.

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    username             TEXT    NOT NULL UNIQUE,
    role                 TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    password_hash        TEXT    NOT NULL,   -- argon2id PHC string
    totp_secret          TEXT,               -- base32; NULL = no second factor enrolled
    totp_last_step       INTEGER,            -- last accepted TOTP step (no replay)
    must_change_password INTEGER NOT NULL DEFAULT 0,
    disabled             INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,   -- nanoseconds since the epoch
    last_login           INTEGER
);

CREATE TABLE sessions (
    id_hash    TEXT    PRIMARY KEY,          -- hex SHA-256 of the cookie value
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_used  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ip         TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,      -- hex SHA-256 of the bearer token
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    last_used  INTEGER,
    expires_at INTEGER
);

CREATE TABLE login_attempts (
    ts       INTEGER NOT NULL,
    username TEXT    NOT NULL,
    ip       TEXT    NOT NULL,
    ok       INTEGER NOT NULL
);
CREATE INDEX login_attempts_user ON login_attempts (username, ts);
CREATE INDEX login_attempts_ip ON login_attempts (ip, ts);

-- One JSON value per key (zones, conduits, OT command watch list,
-- notification targets, ...).
CREATE TABLE settings (
    key        TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,             -- JSON
    updated_at INTEGER NOT NULL,
    updated_by TEXT
);

-- What the portal's alert pages filter by: an asset's MAC (with the IP indexes
-- of migration 2 this lets SQLite answer "alerts of this host" from indexes),
-- and open alerts per severity on the overview.
CREATE INDEX alerts_src_mac ON alerts (src_mac);
CREATE INDEX alerts_dst_mac ON alerts (dst_mac);
CREATE INDEX alerts_status ON alerts (status, severity);
