-- Elastic Load Balancing v2: load balancers, target groups, listeners, rules, registered targets, tags.
-- Keyed by account and region; ARNs are unique. Nested configuration that AWS returns as structures
-- (subnets/availability zones, actions, conditions, health checks, attributes, certificates) is JSON text.

CREATE TABLE elbv2_load_balancers (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    arn TEXT NOT NULL,
    name TEXT NOT NULL,
    lb_id TEXT NOT NULL,
    type TEXT NOT NULL,
    scheme TEXT NOT NULL,
    ip_address_type TEXT NOT NULL,
    vpc_id TEXT NOT NULL,
    dns_name TEXT NOT NULL,
    canonical_hosted_zone_id TEXT NOT NULL,
    state TEXT NOT NULL,
    availability_zones TEXT NOT NULL,
    security_groups TEXT NOT NULL,
    attributes TEXT NOT NULL,
    extra TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, region, arn)
);
CREATE UNIQUE INDEX elbv2_load_balancers_name ON elbv2_load_balancers (account_id, region, name);

CREATE TABLE elbv2_target_groups (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    arn TEXT NOT NULL,
    name TEXT NOT NULL,
    tg_id TEXT NOT NULL,
    target_type TEXT NOT NULL,
    protocol TEXT,
    protocol_version TEXT,
    port INTEGER,
    vpc_id TEXT,
    ip_address_type TEXT,
    health_check TEXT NOT NULL,
    attributes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, region, arn)
);
CREATE UNIQUE INDEX elbv2_target_groups_name ON elbv2_target_groups (account_id, region, name);

CREATE TABLE elbv2_listeners (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    arn TEXT NOT NULL,
    load_balancer_arn TEXT NOT NULL,
    port INTEGER,
    protocol TEXT,
    default_actions TEXT NOT NULL,
    extra TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, region, arn)
);
CREATE INDEX elbv2_listeners_lb ON elbv2_listeners (account_id, region, load_balancer_arn);

-- Rules of a listener; the default rule has is_default = 1 and priority NULL (its actions mirror the
-- listener's default actions).
CREATE TABLE elbv2_rules (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    arn TEXT NOT NULL,
    listener_arn TEXT NOT NULL,
    priority INTEGER,
    is_default INTEGER NOT NULL,
    conditions TEXT NOT NULL,
    actions TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, region, arn)
);
CREATE INDEX elbv2_rules_listener ON elbv2_rules (account_id, region, listener_arn);

-- Registered targets and the events their health is derived from (see services/elbv2/health.py):
-- drain_seconds is the deregistration delay in force when the target was deregistered; reported_health
-- ('healthy'/'unhealthy', NULL when no runtime owns the target) and reported_at come from the runtime owning it.
CREATE TABLE elbv2_targets (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    target_group_arn TEXT NOT NULL,
    target_id TEXT NOT NULL,
    port INTEGER NOT NULL,
    availability_zone TEXT,
    registered_at TEXT NOT NULL,
    deregistered_at TEXT,
    drain_seconds INTEGER NOT NULL DEFAULT 0,
    reported_health TEXT,
    reported_at TEXT,
    PRIMARY KEY (account_id, region, target_group_arn, target_id, port)
);

CREATE TABLE elbv2_tags (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    resource_arn TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, resource_arn, tag_key)
);
