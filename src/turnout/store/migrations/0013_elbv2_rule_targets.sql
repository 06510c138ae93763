-- Which target groups each listener rule forwards to (the default rule mirrors its listener's default actions),
-- kept with every write of a rule's actions, so that "which load balancers use this target group" is an index
-- lookup rather than a scan of every rule's JSON. Derived data: built from elbv2_rules on first use when
-- elbv2_rule_targets_state is empty (databases made before this migration).
CREATE TABLE elbv2_rule_targets (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    rule_arn TEXT NOT NULL,
    listener_arn TEXT NOT NULL,
    load_balancer_arn TEXT NOT NULL,
    target_group_arn TEXT NOT NULL,
    PRIMARY KEY (account_id, region, rule_arn, target_group_arn)
);
CREATE INDEX elbv2_rule_targets_group ON elbv2_rule_targets (account_id, region, target_group_arn);
CREATE INDEX elbv2_rule_targets_lb ON elbv2_rule_targets (account_id, region, load_balancer_arn);
CREATE INDEX elbv2_rule_targets_listener ON elbv2_rule_targets (account_id, region, listener_arn);

CREATE TABLE elbv2_rule_targets_state (
    built INTEGER NOT NULL
);
