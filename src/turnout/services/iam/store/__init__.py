"""The IAM store: the only code with SQL for IAM's tables (``iam_*``), one module per entity group.

Each module is a set of functions taking the request's :class:`~turnout.store.db.Database` first; reads return the
frozen records of :mod:`.records` (never rows), writes take typed arguments and run inside the caller's
transaction. Validation, IAM's errors and the response shapes stay with the operation modules one level up.
"""
