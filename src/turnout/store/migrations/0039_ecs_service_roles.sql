-- The roles each ECS service passes to ECS and ECS assumes for it: its load balancers' infrastructure roles
-- (loadBalancers[].advancedConfiguration.roleArn) and its lifecycle hooks' roles
-- (deploymentConfiguration.lifecycleHooks[].roleArn), kept with the service's config by services/ecs/store/services.py.
-- The deployment guard (turnout.deploy.guard) finds the services an IAM write on a role affects through it, by the
-- role's account and name (a role's ARN may carry a path; its name is unique in its account).
CREATE TABLE ecs_service_roles (
    account_id TEXT NOT NULL,           -- the role's account
    role_name_lower TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    service_account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    service_arn TEXT NOT NULL,
    PRIMARY KEY (account_id, role_name_lower, service_arn, role_arn)
);
CREATE INDEX ecs_service_roles_service ON ecs_service_roles (service_account_id, region, service_arn);

-- The services that exist already (ACTIVE or DRAINING).
INSERT OR IGNORE INTO ecs_service_roles
SELECT substr(r.arn, instr(r.arn, ':iam::') + 6, 12),  -- arn:<partition>:iam::<account>:role/...
       lower(replace(r.arn, rtrim(r.arn, replace(r.arn, '/', '')), '')), r.arn, r.account_id, r.region, r.service_arn
FROM (
    SELECT s.account_id, s.region, s.arn AS service_arn,
           json_extract(lb.value, '$.advancedConfiguration.roleArn') AS arn
    FROM ecs_services s, json_each(s.config, '$.loadBalancers') lb
    WHERE s.status IN ('ACTIVE', 'DRAINING')
    UNION ALL
    SELECT s.account_id, s.region, s.arn, json_extract(h.value, '$.roleArn')
    FROM ecs_services s, json_each(s.config, '$.deploymentConfiguration.lifecycleHooks') h
    WHERE s.status IN ('ACTIVE', 'DRAINING')
) r
WHERE r.arn IS NOT NULL AND instr(r.arn, ':iam::') > 0;
