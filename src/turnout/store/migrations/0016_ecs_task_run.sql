-- RunTask: a task's overrides (TaskOverride, JSON) as DescribeTasks shows them, and the clientToken that launched
-- it with a digest of the request's other parameters (idempotency across restarts).
ALTER TABLE ecs_tasks ADD COLUMN overrides TEXT;
ALTER TABLE ecs_tasks ADD COLUMN client_token TEXT;
ALTER TABLE ecs_tasks ADD COLUMN client_request TEXT;
CREATE INDEX ecs_tasks_client_token ON ecs_tasks (account_id, region, client_token);
