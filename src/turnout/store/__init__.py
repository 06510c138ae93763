"""Embedded state: SQLite under --data-dir, one transaction per request, schema migrations."""
