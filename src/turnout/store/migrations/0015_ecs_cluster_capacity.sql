-- A cluster's capacity providers and default capacity provider strategy (CreateCluster,
-- PutClusterCapacityProviders), as JSON lists.
ALTER TABLE ecs_clusters ADD COLUMN capacity_providers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE ecs_clusters ADD COLUMN default_strategy TEXT NOT NULL DEFAULT '[]';
