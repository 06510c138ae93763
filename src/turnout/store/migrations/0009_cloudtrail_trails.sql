-- CloudTrail trails, their tags, and the delivery state of each trail.
-- A trail is keyed by its ARN (arn:aws:cloudtrail:<home region>:<account>:trail/<name>); a multi-region trail is
-- seen (as a shadow trail) in every region but lives once, in its home region.
-- event_selectors / advanced_event_selectors: JSON lists in botocore's shapes (NULL: never put, the default
-- selector applies). logging_windows: JSON list of [start, stop-or-null] ISO timestamps whose events are still to
-- be delivered. cursor_seq: the last event sequence number the delivery has passed (delivered or filtered out).

CREATE TABLE cloudtrail_trails (
    arn TEXT NOT NULL PRIMARY KEY,
    account_id TEXT NOT NULL,
    home_region TEXT NOT NULL,
    name TEXT NOT NULL,
    s3_bucket_name TEXT NOT NULL,
    s3_key_prefix TEXT,
    sns_topic_name TEXT,
    include_global_service_events INTEGER NOT NULL,
    is_multi_region INTEGER NOT NULL,
    log_file_validation INTEGER NOT NULL,
    cloud_watch_logs_log_group_arn TEXT,
    cloud_watch_logs_role_arn TEXT,
    kms_key_id TEXT,
    is_organization_trail INTEGER NOT NULL,
    extra TEXT NOT NULL,
    event_selectors TEXT,
    advanced_event_selectors TEXT,
    is_logging INTEGER NOT NULL,
    start_logging_at TEXT,
    stop_logging_at TEXT,
    logging_windows TEXT NOT NULL,
    cursor_seq INTEGER NOT NULL,
    last_pass_at TEXT,
    latest_delivery_at TEXT,
    latest_delivery_attempt_at TEXT,
    latest_delivery_error TEXT,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX cloudtrail_trails_name ON cloudtrail_trails (account_id, home_region, name);
CREATE INDEX cloudtrail_trails_account_name ON cloudtrail_trails (account_id, name);

CREATE TABLE cloudtrail_trail_tags (
    trail_arn TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT,
    seq INTEGER NOT NULL,
    PRIMARY KEY (trail_arn, tag_key)
);
