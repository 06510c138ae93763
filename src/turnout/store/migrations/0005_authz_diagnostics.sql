-- Why requests were denied, kept by request id so that any AccessDenied can be explained later
-- (turnout.authz.diagnostics). Bounded: the newest rows of each account are kept (seq numbers each account's
-- denials 1, 2, 3...; older ones are deleted as new ones arrive).

CREATE TABLE authz_denials (
    request_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    denied_at TEXT NOT NULL,
    principal_arn TEXT,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    effect TEXT NOT NULL,
    denied_by TEXT,
    error_code TEXT NOT NULL,
    message TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX authz_denials_account_seq ON authz_denials (account_id, seq);
