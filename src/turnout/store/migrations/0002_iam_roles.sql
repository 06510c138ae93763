-- Roles: service-linked roles and the sign-in session setting; service-linked role deletion tasks.

-- The service principal a service-linked role belongs to (NULL for roles callers create).
ALTER TABLE iam_roles ADD COLUMN linked_service TEXT;

-- MaxSigninSessionDuration, in seconds; NULL while unset.
ALTER TABLE iam_roles ADD COLUMN max_signin_session_duration INTEGER;

-- DeleteServiceLinkedRole tasks, as GetServiceLinkedRoleDeletionStatus reports them.
CREATE TABLE iam_slr_deletion_tasks (
    account_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    role_name TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, task_id)
);
