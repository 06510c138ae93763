"""Which S3 operations are CloudTrail *data events*: not recorded as management events (event history, trails
with the default selector).

CloudTrail logs S3 "object-level API activity (for example, GetObject, DeleteObject, and PutObject)" as data
events, off by default (CloudTrail user guide, "Logging data events"). Here: every operation authorized on an
object (its IAM action's resource is ``object``), DeleteObjects, the multipart operations, and the object
listings (ListObjects, ListObjectsV2, ListObjectVersions, ListMultipartUploads; that these are data events is
our reading of the S3 user guide's table of CloudTrail events, UNCONFIRMED). Bucket operations are management
events.
"""

from __future__ import annotations

from functools import cache

from ...authz.resources_s3 import ACTIONS
from ...reference.authorization import catalog

LISTINGS = frozenset({"ListObjects", "ListObjectsV2", "ListObjectVersions", "ListMultipartUploads", "DeleteObjects"})


@cache
def is_data_event(operation: str) -> bool:
    if operation in LISTINGS:
        return True
    action = catalog().action("s3", ACTIONS.get(operation, operation))
    return action is not None and "object" in action.resource_types
