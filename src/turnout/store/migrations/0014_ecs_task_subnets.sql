-- A task's private IP is chosen among the addresses its subnet's live tasks do not hold: index them by subnet.
CREATE INDEX ecs_tasks_subnet ON ecs_tasks (account_id, region, subnet_id) WHERE last_status <> 'STOPPED';
