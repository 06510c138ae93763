-- The data plane's local addresses (issue 13): where each listener and each task container answers on this
-- machine. Written by the one process that serves them (the primary worker, turnout.dataplane.runtime), read by
-- any worker for GET /_turnout/dataplane. Valid while that process runs: it empties both tables when it starts.
CREATE TABLE dataplane_listeners (
    listener_arn TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    load_balancer_arn TEXT NOT NULL,
    port INTEGER NOT NULL,      -- the listener's own port (the API's)
    host TEXT NOT NULL,         -- where it is served
    local_port INTEGER NOT NULL
);

CREATE TABLE dataplane_endpoints (
    task_arn TEXT NOT NULL,
    container_name TEXT NOT NULL,
    container_port INTEGER NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    host TEXT NOT NULL,
    local_port INTEGER NOT NULL,
    pid INTEGER,
    log_path TEXT,
    PRIMARY KEY (task_arn, container_name, container_port)
);
