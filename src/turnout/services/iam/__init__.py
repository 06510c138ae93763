"""IAM: roles, users, groups, policies and access keys, as AWS's IAM API serves them."""
