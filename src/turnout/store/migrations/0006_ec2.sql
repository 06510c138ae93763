-- EC2 networking, minimal but real: VPCs, subnets, security groups and their rules, tags.
-- Keyed by account and region. ``ec2_regions`` records that a region's defaults (default VPC, one default
-- subnet per availability zone, default security group) were created, so they are created once.

CREATE TABLE ec2_regions (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    initialized_at TEXT NOT NULL,
    PRIMARY KEY (account_id, region)
);

CREATE TABLE ec2_vpcs (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    vpc_id TEXT NOT NULL,
    cidr_block TEXT NOT NULL,
    cidr_association_id TEXT NOT NULL,
    is_default INTEGER NOT NULL,
    state TEXT NOT NULL,
    instance_tenancy TEXT NOT NULL,
    dhcp_options_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, region, vpc_id)
);

CREATE TABLE ec2_subnets (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    subnet_id TEXT NOT NULL,
    vpc_id TEXT NOT NULL,
    cidr_block TEXT NOT NULL,
    availability_zone TEXT NOT NULL,
    availability_zone_id TEXT NOT NULL,
    default_for_az INTEGER NOT NULL,
    map_public_ip_on_launch INTEGER NOT NULL,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, region, subnet_id)
);
CREATE INDEX ec2_subnets_vpc ON ec2_subnets (account_id, region, vpc_id);

CREATE TABLE ec2_security_groups (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    group_id TEXT NOT NULL,
    group_name TEXT NOT NULL,
    description TEXT NOT NULL,
    vpc_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, region, group_id)
);
CREATE UNIQUE INDEX ec2_security_groups_name ON ec2_security_groups (account_id, region, vpc_id, group_name);

-- One row per security group rule (sgr- id), ingress or egress.
CREATE TABLE ec2_security_group_rules (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    is_egress INTEGER NOT NULL,
    ip_protocol TEXT NOT NULL,
    from_port INTEGER,
    to_port INTEGER,
    cidr_ipv4 TEXT,
    cidr_ipv6 TEXT,
    prefix_list_id TEXT,
    referenced_group_id TEXT,
    referenced_user_id TEXT,
    description TEXT,
    seq INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, rule_id)
);
CREATE INDEX ec2_security_group_rules_group ON ec2_security_group_rules (account_id, region, group_id);

CREATE TABLE ec2_tags (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (account_id, region, resource_id, tag_key)
);
