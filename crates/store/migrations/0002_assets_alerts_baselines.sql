-- The asset ledger, alerts and learned baselines.
--
-- Rows keep the columns the portal sorts and filters by, plus the whole record
-- as JSON (`detail`, `evidence`, `data`): the ledger's attribute history and an
-- alert's evidence have shapes that grow with the protocols, and a column per
-- field would need a migration each time.

-- One row per asset. `asset_key` is `mac:aa:bb:cc:dd:ee:ff` for a device seen
-- on the wire, `ip:192.0.2.7` for an address known only behind a router.
CREATE TABLE assets (
    asset_key   TEXT    PRIMARY KEY,
    mac         TEXT,
    ips         TEXT    NOT NULL,   -- JSON array of addresses, newest first
    vendor      TEXT,
    hostname    TEXT,
    os          TEXT,
    os_eol      TEXT,               -- ISO date the OS left support, if known
    role        TEXT    NOT NULL,
    model       TEXT,
    firmware    TEXT,
    behind      TEXT,               -- asset_key of the router it sits behind
    first_seen  INTEGER NOT NULL,   -- nanoseconds since the epoch
    last_seen   INTEGER NOT NULL,
    pkts        INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    detail      TEXT    NOT NULL,   -- JSON: attributes with sources and history, services
    updated_run INTEGER REFERENCES runs (id)
);
CREATE INDEX assets_last_seen ON assets (last_seen);
CREATE INDEX assets_role ON assets (role);
CREATE INDEX assets_mac ON assets (mac);

-- One row per aggregated alert: repeats of the same `fingerprint` add to
-- `count` and move `last_seen`.
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    fingerprint TEXT    NOT NULL UNIQUE,
    ts          INTEGER NOT NULL,   -- first seen, nanoseconds
    last_seen   INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    severity    TEXT    NOT NULL,
    src_mac     TEXT,
    src_ip      TEXT,
    dst_mac     TEXT,
    dst_ip      TEXT,
    protocol    TEXT,
    summary     TEXT    NOT NULL,
    evidence    TEXT    NOT NULL,   -- JSON object
    mitre_ics   TEXT,
    learning    INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'open',  -- open, acknowledged, accepted
    status_by   TEXT,
    status_at   INTEGER,
    run_id      INTEGER REFERENCES runs (id)
);
CREATE INDEX alerts_ts ON alerts (ts);
CREATE INDEX alerts_kind ON alerts (kind, ts);
CREATE INDEX alerts_severity ON alerts (severity, ts);
CREATE INDEX alerts_src_ip ON alerts (src_ip);
CREATE INDEX alerts_dst_ip ON alerts (dst_ip);

-- Learned baselines, versioned: detection uses the newest.
CREATE TABLE baselines (
    version      INTEGER PRIMARY KEY,
    created_at   INTEGER NOT NULL,
    run_id       INTEGER REFERENCES runs (id),
    window_start INTEGER,
    window_end   INTEGER,
    note         TEXT    NOT NULL,
    data         TEXT    NOT NULL   -- JSON, the detect crate's format
);
