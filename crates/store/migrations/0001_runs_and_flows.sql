-- 0001: run records and hourly flow aggregates.
--
-- Conventions for every table in this schema:
--   * timestamps are INTEGER nanoseconds since the Unix epoch (UTC);
--   * counters are INTEGER and never negative;
--   * "no value" in a key column is a sentinel ('' or -1), not NULL, because
--     NULLs are distinct in a UNIQUE/PRIMARY KEY and would defeat the upsert.

-- One row per invocation of a command that reads traffic (analyze, sensor).
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    command       TEXT    NOT NULL,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    status        TEXT    NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'ok', 'damaged input', 'failed')),
    packets       INTEGER NOT NULL DEFAULT 0 CHECK (packets >= 0),
    bytes         INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    flows         INTEGER NOT NULL DEFAULT 0 CHECK (flows >= 0),
    duplicates    INTEGER NOT NULL DEFAULT 0 CHECK (duplicates >= 0),
    decode_errors INTEGER NOT NULL DEFAULT 0 CHECK (decode_errors >= 0),
    evictions     INTEGER NOT NULL DEFAULT 0 CHECK (evictions >= 0),
    elapsed_secs  REAL    NOT NULL DEFAULT 0,
    threads       INTEGER NOT NULL DEFAULT 0 CHECK (threads >= 0),
    version       TEXT    NOT NULL
);

CREATE INDEX runs_by_start ON runs (started_at);

-- The inputs of a run in the order they were given (seq 0, 1, ...).
CREATE TABLE run_inputs (
    run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL CHECK (seq >= 0),
    path    TEXT    NOT NULL,
    packets INTEGER NOT NULL DEFAULT 0 CHECK (packets >= 0),
    bytes   INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    error   TEXT,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

-- Connections summed per hour of their start time and per
-- (orig_h, resp_h, proto, resp_p, service, vlan). A later run that covers the
-- same hour adds to the row.
CREATE TABLE flow_hourly (
    hour          INTEGER NOT NULL,                 -- start of the UTC hour
    orig_h        TEXT    NOT NULL,                 -- canonical text form
    resp_h        TEXT    NOT NULL,
    proto         INTEGER NOT NULL CHECK (proto BETWEEN 0 AND 255),
    resp_p        INTEGER NOT NULL CHECK (resp_p BETWEEN 0 AND 65535),
    service       TEXT    NOT NULL DEFAULT '',      -- '' = none identified
    vlan          INTEGER NOT NULL DEFAULT -1       -- -1 = untagged
                  CHECK (vlan BETWEEN -1 AND 4095),
    conns         INTEGER NOT NULL CHECK (conns >= 0),
    orig_pkts     INTEGER NOT NULL CHECK (orig_pkts >= 0),
    resp_pkts     INTEGER NOT NULL CHECK (resp_pkts >= 0),
    orig_bytes    INTEGER NOT NULL CHECK (orig_bytes >= 0),
    resp_bytes    INTEGER NOT NULL CHECK (resp_bytes >= 0),
    orig_ip_bytes INTEGER NOT NULL CHECK (orig_ip_bytes >= 0),
    resp_ip_bytes INTEGER NOT NULL CHECK (resp_ip_bytes >= 0),
    duration      INTEGER NOT NULL CHECK (duration >= 0), -- summed, ns
    first_seen    INTEGER NOT NULL,                 -- earliest connection start
    last_seen     INTEGER NOT NULL,                 -- latest connection end
    last_run_id   INTEGER REFERENCES runs (id) ON DELETE SET NULL,
    PRIMARY KEY (hour, orig_h, resp_h, proto, resp_p, service, vlan)
) WITHOUT ROWID;
