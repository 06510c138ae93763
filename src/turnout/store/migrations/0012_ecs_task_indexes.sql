-- ECS tasks are counted per revision and per deployment (DescribeServices, DescribeServiceDeployments, the
-- engine), and the task lifecycle reads the tasks not yet STOPPED on every pass: indexes for each.
CREATE INDEX ecs_tasks_revision ON ecs_tasks (account_id, region, revision_arn);
CREATE INDEX ecs_tasks_deployment ON ecs_tasks (account_id, region, deployment_arn);
CREATE INDEX ecs_tasks_live ON ecs_tasks (created_at, arn) WHERE last_status <> 'STOPPED';
