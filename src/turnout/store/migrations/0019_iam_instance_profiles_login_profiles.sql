-- IAM instance profiles (with the one role each may hold) and login profiles (console passwords) of users.

CREATE TABLE iam_instance_profiles (
    account_id TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    name TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    path TEXT NOT NULL,
    arn TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, name_lower)
);

-- The role of a profile: the primary key makes it one role per profile (InstanceSessionsPerInstanceProfile: 1).
CREATE TABLE iam_instance_profile_roles (
    account_id TEXT NOT NULL,
    profile_lower TEXT NOT NULL,
    role_lower TEXT NOT NULL,
    PRIMARY KEY (account_id, profile_lower)
);
CREATE INDEX iam_instance_profile_roles_role ON iam_instance_profile_roles (account_id, role_lower);

-- A user's console password: only a salted hash is kept (scrypt), never the password.
CREATE TABLE iam_login_profiles (
    account_id TEXT NOT NULL,
    user_lower TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    password_reset_required INTEGER NOT NULL,
    max_signin_session_duration INTEGER,  -- seconds, NULL while unset
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, user_lower)
);
