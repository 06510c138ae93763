-- Amazon ECS services, their revisions, service deployments, tasks and service events. Keyed by account and
-- region. Nested structures are JSON text in botocore's member names; timestamps are ISO 8601 text in UTC.

-- One row per service (name unique in a cluster while ACTIVE or DRAINING). ``config`` holds the service's
-- current configuration as CreateService/UpdateService set it: taskDefinition (ARN), desiredCount,
-- loadBalancers, deploymentConfiguration, deploymentController, launchType, platformVersion,
-- networkConfiguration, schedulingStrategy, healthCheckGracePeriodSeconds, propagateTags, enableECSManagedTags,
-- enableExecuteCommand, availabilityZoneRebalancing, roleArn, serviceRegistries, placement...
CREATE TABLE ecs_services (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    cluster TEXT NOT NULL,          -- the cluster's name
    name TEXT NOT NULL,
    arn TEXT NOT NULL,
    status TEXT NOT NULL,           -- ACTIVE | DRAINING | INACTIVE
    config TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    PRIMARY KEY (account_id, region, arn)
);
CREATE INDEX ecs_services_cluster ON ecs_services (account_id, region, cluster, name);

-- Service events, newest first when shown (DescribeServices returns the latest 100).
CREATE TABLE ecs_service_events (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    service_arn TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (account_id, region, service_arn, seq)
);

-- One row per service revision (immutable once written). ``body`` is the ServiceRevision in botocore's names
-- minus the columns below (taskDefinition, loadBalancers, networkConfiguration, launchType, platformVersion...).
CREATE TABLE ecs_service_revisions (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    arn TEXT NOT NULL,
    service_arn TEXT NOT NULL,
    cluster_arn TEXT NOT NULL,
    task_definition_arn TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, region, arn)
);
CREATE INDEX ecs_service_revisions_service ON ecs_service_revisions (account_id, region, service_arn);

-- One row per service deployment. The deployment engine owns status, status_reason, lifecycle_stage, weights,
-- hooks, rollback, engine and the timestamps after created_at; the API writes the row (PENDING) and reads it.
CREATE TABLE ecs_service_deployments (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    arn TEXT NOT NULL,
    service_arn TEXT NOT NULL,
    cluster_arn TEXT NOT NULL,
    legacy_id TEXT NOT NULL,            -- Service.deployments[].id (``ecs-svc/<19 digits>``)
    status TEXT NOT NULL,               -- ServiceDeploymentStatus
    status_reason TEXT,
    lifecycle_stage TEXT,               -- ServiceDeploymentLifecycleStage (NULL before it starts)
    target_revision_arn TEXT NOT NULL,
    source_revision_arns TEXT NOT NULL, -- JSON list, the revisions running when it was created
    desired_count INTEGER NOT NULL,
    config TEXT NOT NULL,               -- deploymentConfiguration as at creation (JSON)
    test_weight REAL,                   -- requestedTestTrafficWeight of the target revision (percent)
    production_weight REAL,             -- requestedProductionTrafficWeight of the target revision (percent)
    hooks TEXT NOT NULL DEFAULT '[]',   -- lifecycleHookDetails (JSON list)
    rollback TEXT,                      -- ServiceDeployment.rollback (JSON) once rolling back
    circuit_breaker TEXT,               -- ServiceDeployment.deploymentCircuitBreaker (JSON)
    alarms TEXT,                        -- ServiceDeployment.alarms (JSON)
    rollout_state TEXT NOT NULL,        -- Service.deployments[].rolloutState: IN_PROGRESS | COMPLETED | FAILED
    rollout_state_reason TEXT,
    engine TEXT NOT NULL DEFAULT '{}',  -- the engine's private progress (JSON)
    wake_since TEXT,                    -- the engine waits ``wake_after`` simulated seconds from this instant
    wake_after REAL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    updated_at TEXT NOT NULL,
    finished_at TEXT,
    stopped_at TEXT,
    PRIMARY KEY (account_id, region, arn)
);
CREATE INDEX ecs_service_deployments_service ON ecs_service_deployments (account_id, region, service_arn);
CREATE INDEX ecs_service_deployments_status ON ecs_service_deployments (status);

-- One row per task. A service's tasks carry its ARN and the revision (and deployment) that started them.
CREATE TABLE ecs_tasks (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    cluster TEXT NOT NULL,              -- the cluster's name
    arn TEXT NOT NULL,
    id TEXT NOT NULL,
    service_arn TEXT,
    revision_arn TEXT,
    deployment_arn TEXT,
    task_definition_arn TEXT NOT NULL,
    started_by TEXT,
    group_name TEXT NOT NULL,           -- ``service:<name>`` or ``family:<family>``
    launch_type TEXT,
    platform_version TEXT,
    availability_zone TEXT,
    subnet_id TEXT,
    private_ip TEXT,
    eni_id TEXT,
    last_status TEXT NOT NULL,          -- PROVISIONING | PENDING | ACTIVATING | RUNNING | DEACTIVATING | STOPPING |
                                        -- DEPROVISIONING | STOPPED
    desired_status TEXT NOT NULL,       -- RUNNING | STOPPED
    health_status TEXT NOT NULL,        -- HEALTHY | UNHEALTHY | UNKNOWN
    registrations TEXT NOT NULL DEFAULT '[]',  -- JSON list of {targetGroupArn, id, port} ECS registered
    stop_code TEXT,
    stopped_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    pull_started_at TEXT,
    pull_stopped_at TEXT,
    connectivity_at TEXT,
    started_at TEXT,
    stopping_at TEXT,
    execution_stopped_at TEXT,
    stopped_at TEXT,
    status_since TEXT NOT NULL,         -- when last_status was last set (the lifecycle's next step counts from it)
    PRIMARY KEY (account_id, region, arn)
);
CREATE INDEX ecs_tasks_service ON ecs_tasks (account_id, region, service_arn);
CREATE INDEX ecs_tasks_cluster ON ecs_tasks (account_id, region, cluster, last_status);
