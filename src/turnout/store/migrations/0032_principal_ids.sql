-- Resource-based policies bind the IAM users and roles they name to their unique ids when saved (AWS: IAM User
-- Guide, "AWS JSON policy elements: Principal"). The *_saved column holds the saved form (principal ARNs replaced
-- by AIDA.../AROA... ids), the one the policy engine evaluates; the written text stays for display. NULL: the
-- document names no existing user or role (or was saved before this migration), and the written text applies.
ALTER TABLE iam_roles ADD COLUMN trust_policy_saved TEXT;
ALTER TABLE s3_buckets ADD COLUMN policy_saved TEXT;
