-- Accounts, IAM and STS. Every table is keyed by account; IAM and STS are global services.
-- Names are unique case-insensitively, as in IAM: name_lower carries the key, name keeps the caller's case.
-- Timestamps are ISO 8601 text in UTC; JSON documents are text.

CREATE TABLE accounts (
    account_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);

CREATE TABLE iam_roles (
    account_id TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    name TEXT NOT NULL,
    role_id TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    arn TEXT NOT NULL,
    trust_policy TEXT NOT NULL,
    description TEXT,
    max_session_duration INTEGER NOT NULL,
    permissions_boundary TEXT,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    last_used_region TEXT,
    PRIMARY KEY (account_id, name_lower)
);

CREATE TABLE iam_users (
    account_id TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    name TEXT NOT NULL,
    user_id TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    arn TEXT NOT NULL,
    permissions_boundary TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, name_lower)
);

CREATE TABLE iam_groups (
    account_id TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    name TEXT NOT NULL,
    group_id TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    arn TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, name_lower)
);

CREATE TABLE iam_group_members (
    account_id TEXT NOT NULL,
    group_lower TEXT NOT NULL,
    user_lower TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (account_id, group_lower, user_lower)
);

-- Customer managed policies. AWS managed policies live in the read-only catalogue (turnout/data).
CREATE TABLE iam_policies (
    account_id TEXT NOT NULL,
    arn TEXT NOT NULL,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    policy_id TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    description TEXT,
    default_version TEXT NOT NULL,
    next_version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (account_id, arn)
);
CREATE UNIQUE INDEX iam_policies_name ON iam_policies (account_id, name_lower);

CREATE TABLE iam_policy_versions (
    account_id TEXT NOT NULL,
    policy_arn TEXT NOT NULL,
    version_id TEXT NOT NULL,
    document TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, policy_arn, version_id)
);

-- Managed policy attachments of roles, users and groups (entity_type: role | user | group).
CREATE TABLE iam_attachments (
    account_id TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_lower TEXT NOT NULL,
    policy_arn TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (account_id, entity_type, entity_lower, policy_arn)
);
CREATE INDEX iam_attachments_policy ON iam_attachments (account_id, policy_arn);

-- Inline policies of roles, users and groups.
CREATE TABLE iam_inline_policies (
    account_id TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_lower TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (account_id, entity_type, entity_lower, policy_name)
);

-- Tags of IAM resources (resource_type: role | user | policy | ...; resource_key: name_lower or ARN).
CREATE TABLE iam_tags (
    account_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_key TEXT NOT NULL,
    tag_key_lower TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (account_id, resource_type, resource_key, tag_key_lower)
);

CREATE TABLE iam_access_keys (
    access_key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    user_lower TEXT NOT NULL,
    secret TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    last_used_service TEXT,
    last_used_region TEXT
);
CREATE INDEX iam_access_keys_user ON iam_access_keys (account_id, user_lower);

-- STS temporary credentials. ``context`` is the JSON of the session: who it is, its policies, tags.
CREATE TABLE sts_sessions (
    access_key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    secret TEXT NOT NULL,
    session_token TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    context TEXT NOT NULL
);
