-- A task container's real exit (issue 13: task processes run): which container exited by itself, and its code,
-- shown as containers[].exitCode by DescribeTasks.
ALTER TABLE ecs_tasks ADD COLUMN exit_container TEXT;
ALTER TABLE ecs_tasks ADD COLUMN exit_code INTEGER;
