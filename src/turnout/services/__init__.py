"""Service providers: one class per service, one method per operation, dispatched through one table."""
