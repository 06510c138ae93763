"""Amazon ECS: clusters, task definitions and tags."""
