"""CloudTrail: every call recorded as AWS records it (``recorder.py``), LookupEvents, and trails."""
