"""Authentication: SigV4 verification and credential resolution."""
