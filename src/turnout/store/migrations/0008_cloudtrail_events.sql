-- CloudTrail event history (turnout.services.cloudtrail.store): one row per recorded event, per account it is
-- recorded in, in the order written (seq). event_time is in epoch seconds (the record's eventTime); the other
-- columns are the values LookupEvents returns, and the record: its CloudTrail JSON text, or (record NULL) the
-- shared text of repeated calls (cloudtrail_shapes) around this event's eventTime, request_id and event_id.
CREATE TABLE cloudtrail_shapes (
    id BIGINT PRIMARY KEY,
    before_time TEXT NOT NULL,
    before_request TEXT NOT NULL,
    before_event TEXT NOT NULL,
    tail TEXT NOT NULL
);

CREATE TABLE cloudtrail_events (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    event_time BIGINT NOT NULL,
    event_name TEXT NOT NULL,
    event_source TEXT NOT NULL,
    read_only SMALLINT NOT NULL,
    username TEXT,
    access_key_id TEXT,
    resources TEXT NOT NULL,
    shape_id BIGINT,
    request_id TEXT,
    record TEXT
);

-- The lookup index as posting lists: for each (account, region, lookup attribute, value) the events having that
-- value, as "time:seq" deltas in (time, seq) order, up to 512 a row; attribute '' lists every event. Regular rows
-- (regular = 1) of a value never overlap: each starts after the previous one's last entry (max_time, last_seq),
-- so a lookup reads them newest first from one index range. Entries that arrive older than a value's newest
-- regular row (a clock set back) go to irregular rows (regular = 0), which lookups read whole.
CREATE TABLE cloudtrail_lookup (
    id INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    attribute TEXT NOT NULL,
    value TEXT NOT NULL,
    regular SMALLINT NOT NULL,
    min_time BIGINT NOT NULL,
    max_time BIGINT NOT NULL,
    last_seq INTEGER NOT NULL,
    entry_count INTEGER NOT NULL,
    entries TEXT NOT NULL
);
CREATE INDEX cloudtrail_lookup_key
    ON cloudtrail_lookup (account_id, region, attribute, value, regular, min_time, last_seq);
