-- EC2 for Terraform: VPC attributes, each VPC's main route table, and network interfaces (ENIs).

-- DescribeVpcAttribute / ModifyVpcAttribute. A VPC is created with DNS support on and DNS host names off; the
-- default VPC has both on (Amazon VPC User Guide, "DNS attributes for your VPC").
ALTER TABLE ec2_vpcs ADD COLUMN enable_dns_support INTEGER NOT NULL DEFAULT 1;
ALTER TABLE ec2_vpcs ADD COLUMN enable_dns_hostnames INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ec2_vpcs ADD COLUMN enable_network_address_usage_metrics INTEGER NOT NULL DEFAULT 0;
UPDATE ec2_vpcs SET enable_dns_hostnames = 1 WHERE is_default = 1;

-- The main route table every VPC is created with (its local route is derived from the VPC's CIDR block).
CREATE TABLE ec2_route_tables (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    route_table_id TEXT NOT NULL,
    vpc_id TEXT NOT NULL,
    main_association_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, region, route_table_id)
);
CREATE UNIQUE INDEX ec2_route_tables_vpc ON ec2_route_tables (account_id, region, vpc_id);

-- VPCs made before this migration get theirs now (ids: the prefix and 17 random hex digits, as ids.ec2_id).
INSERT INTO ec2_route_tables (account_id, region, route_table_id, vpc_id, main_association_id, created_at)
SELECT account_id, region, 'rtb-' || substr(lower(hex(randomblob(9))), 1, 17), vpc_id,
       'rtbassoc-' || substr(lower(hex(randomblob(9))), 1, 17), created_at
FROM ec2_vpcs;

-- Network interfaces other services' resources hold: a load balancer's (one per subnet) and an awsvpc task's.
-- ``owner_ref`` names the holder (the load balancer's ARN, the task's ARN) so the holder's service can find and
-- delete them; ``security_groups`` is a JSON list of group ids.
CREATE TABLE ec2_network_interfaces (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    eni_id TEXT NOT NULL,
    subnet_id TEXT NOT NULL,
    vpc_id TEXT NOT NULL,
    availability_zone TEXT NOT NULL,
    private_ip TEXT NOT NULL,
    description TEXT NOT NULL,
    interface_type TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    instance_owner_id TEXT NOT NULL,
    attachment_id TEXT NOT NULL,
    security_groups TEXT NOT NULL,
    owner_ref TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, region, eni_id)
);
CREATE INDEX ec2_network_interfaces_owner ON ec2_network_interfaces (account_id, region, owner_ref);
CREATE INDEX ec2_network_interfaces_subnet ON ec2_network_interfaces (account_id, region, subnet_id);
