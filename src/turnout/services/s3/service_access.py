"""What AWS services do with buckets on their own behalf: CloudTrail's bucket check (CreateTrail, UpdateTrail)
and the delivery of its log files as objects.

CloudTrail may deliver to a bucket when the bucket's policy lets the service principal
``cloudtrail.amazonaws.com`` do ``s3:GetBucketAcl`` on the bucket and ``s3:PutObject`` on
``arn:aws:s3:::<bucket>/[<prefix>/]AWSLogs/<account>/*`` (CloudTrail user guide, "Amazon S3 bucket policy for
CloudTrail"; facts file 2, section 5). The policy is evaluated by the IAM policy engine as for any call a service
principal makes: with ``aws:SourceArn`` (the trail), ``aws:SourceAccount`` and ``s3:x-amz-acl``
(``bucket-owner-full-control``, which CloudTrail sets on its writes), so policies conditioned on them, as AWS's
example is, are honoured. No bucket policy: no access (a service principal needs the resource policy).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from ...policy import PolicySet, Request, compile_policy, evaluate
from ...policy.parse import PolicySyntaxError
from ...store.db import Database
from . import store
from .objects import etag_of, with_default_checksum

CLOUDTRAIL = "cloudtrail.amazonaws.com"
DELIVERY_ACL = "bucket-owner-full-control"


class BucketProblem(Enum):
    MISSING = "missing"
    POLICY = "policy"


def log_key_prefix(prefix: str | None, account: str) -> str:
    """``[<prefix>/]AWSLogs/<account>/``: where CloudTrail writes an account's logs in a bucket."""
    return f"{prefix.strip('/')}/AWSLogs/{account}/" if prefix and prefix.strip("/") else f"AWSLogs/{account}/"


def _allowed(policy_text: str, bucket: str, owner: str, action: str, resource: str, context: dict[str, str]) -> bool:
    try:
        policy = compile_policy(policy_text, f"arn:aws:s3:::{bucket}#policy")
    except PolicySyntaxError:
        return False
    request = Request(CLOUDTRAIL, None, "AWSService", action, resource, owner, context, principal_service=CLOUDTRAIL)
    return evaluate(request, PolicySet(resource=policy)).allowed


def cloudtrail_problem(db: Database, bucket: str, prefix: str | None, account: str, region: str,
                       trail_arn: str) -> BucketProblem | None:
    """Why CloudTrail could not deliver the trail's logs to ``bucket``; None when it can."""
    found = store.bucket(db, bucket)
    if found is None:
        return BucketProblem.MISSING
    policy = found.evaluated_policy
    if policy is None:
        return BucketProblem.POLICY
    context = {"aws:SourceArn": trail_arn, "aws:SourceAccount": account}
    acl_ok = _allowed(policy, bucket, found.account_id, "s3:GetBucketAcl", f"arn:aws:s3:::{bucket}", context)
    key = f"arn:aws:s3:::{bucket}/{log_key_prefix(prefix, account)}CloudTrail/{region}/"
    write_ok = _allowed(policy, bucket, found.account_id, "s3:PutObject", key,
                        {**context, "s3:x-amz-acl": DELIVERY_ACL})
    return None if acl_ok and write_ok else BucketProblem.POLICY


def put_log_file(db: Database, bucket: str, key: str, body: bytes, when: datetime) -> bool:
    """Store a delivered log file as an object (in the caller's transaction); False when the bucket is gone."""
    if store.bucket(db, bucket) is None:
        return False
    # CloudTrail log objects: gzip JSON, stored with SSE-S3 like every object (content type: our choice).
    store.put_object(db, store.StoredObject(
        bucket, key, len(body), etag_of(body), "application/json", when.isoformat(),
        with_default_checksum({"ContentEncoding": "gzip"}, body), body,
    ))
    return True
