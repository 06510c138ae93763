-- Amazon ECS: clusters, task definitions (families and revisions) and tags. Keyed by account and region.
-- Nested structures AWS returns (settings, configuration, container definitions...) are JSON text;
-- timestamps are ISO 8601 text in UTC.

CREATE TABLE ecs_clusters (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    arn TEXT NOT NULL,
    status TEXT NOT NULL,
    settings TEXT NOT NULL,
    configuration TEXT,
    service_connect TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, region, name)
);

-- One row per revision; body is the task definition as RegisterTaskDefinition stored it (botocore names).
CREATE TABLE ecs_task_definitions (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    family TEXT NOT NULL,
    revision INTEGER NOT NULL,
    arn TEXT NOT NULL,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    registered_by TEXT,
    deregistered_at TEXT,
    delete_requested_at TEXT,
    PRIMARY KEY (account_id, region, family, revision)
);
CREATE INDEX ecs_task_definitions_arn ON ecs_task_definitions (account_id, region, arn);

CREATE TABLE ecs_tags (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    resource_arn TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, resource_arn, tag_key)
);
