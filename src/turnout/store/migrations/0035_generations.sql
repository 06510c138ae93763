-- Generations: one token per name, changed by every write that makes some process's cached view stale
-- (turnout.store.generations). Several server processes share the database; each reads the tokens when
-- another process has committed since it last looked (PRAGMA data_version).
CREATE TABLE generations (
    name TEXT PRIMARY KEY,
    token INTEGER NOT NULL
);
