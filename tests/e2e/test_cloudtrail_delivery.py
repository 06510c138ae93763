"""Trail log files, read as S3 objects of the trail's bucket from a real server that runs its clock 600 times faster
(a delivery every 5 simulated minutes is one every half second): the files parse as CloudTrail logs in AWS's S3 key
layout, hold only
the events of logging periods that the trail's selectors keep, in the regions the trail covers, and a restart
neither loses nor repeats an event. Each test runs in an account of its own; waits are bounded polls."""

from __future__ import annotations

import gzip
import json
import re
import secrets
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from tests.conftest import Server, cloudtrail_bucket_policy

KEY = re.compile(
    r"(?P<bucket>[a-z0-9.-]+)/(?:(?P<prefix>.+)/)?AWSLogs/(?P<account>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/"
    r"(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/"
    r"(?P=account)_CloudTrail_(?P=region)_(?P<stamp>\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz"
)
EVENT_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
RECORD_FIELDS = {
    "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
    "userAgent", "requestParameters", "responseElements", "requestID", "eventID", "readOnly", "eventType",
    "managementEvent", "recipientAccountId", "eventCategory",
}
WAIT = 30.0  # seconds a test waits at most for a delivery (one is due every half second)


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("trail-delivery") / "data", ["--time-scale", "600"]).start()
    yield srv
    srv.stop()


def new_account() -> str:
    return f"{secrets.randbelow(10**11) + 10**11:012d}"


def rid(response: dict[str, Any]) -> str:
    return str(response["ResponseMetadata"]["RequestId"])


def bucket_of(name: str, account: str) -> str:
    """The test's bucket ``name`` in ``account`` (bucket names are global: the account id keeps them apart)."""
    return f"{name}-{account}"


class Logs:
    """The log files delivered for one account: objects of its buckets, read through S3 (or, in process, through
    the S3 store). A file is named ``PurePosixPath("<bucket>/<key>")``."""

    def __init__(self, server: Server | None, account: str, db: Any = None) -> None:
        self.s3 = server.client("s3", key=account) if server is not None else None
        self.db = db
        self.account = account

    def _keys(self, bucket: str) -> list[str]:
        if self.s3 is None:
            from turnout.services.s3 import store

            return [o.key for o in store.objects_after(self.db, bucket, "", None, 100_000)]
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [o["Key"] for page in pages for o in page.get("Contents", [])]

    def _body(self, bucket: str, key: str) -> bytes:
        if self.s3 is None:
            from turnout.services.s3 import store

            found = store.get_object(self.db, bucket, key)
            assert found is not None and found.body is not None
            return found.body
        return bytes(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    def files(self, bucket: str | None = None) -> list[PurePosixPath]:
        if bucket is not None:
            buckets = [bucket_of(bucket, self.account)]
        elif self.s3 is not None:
            buckets = [b["Name"] for b in self.s3.list_buckets()["Buckets"]]
        else:
            from turnout.services.s3 import store

            buckets = [b.name for b in store.buckets_of(self.db, self.account)]
        return sorted(PurePosixPath(f"{name}/{key}") for name in buckets for key in self._keys(name)
                      if key.endswith(".json.gz") and f"/AWSLogs/{self.account}/" in f"/{key}")

    def records(self, bucket: str | None = None) -> list[tuple[PurePosixPath, dict[str, Any]]]:
        out: list[tuple[PurePosixPath, dict[str, Any]]] = []
        for path in self.files(bucket):
            name, _, key = path.as_posix().partition("/")
            document = json.loads(gzip.decompress(self._body(name, key)))
            out.extend((path, record) for record in document["Records"])
        return out

    def wait(self, bucket: str, request_ids: Iterable[str]) -> list[tuple[PurePosixPath, dict[str, Any]]]:
        """The bucket's records once every one of ``request_ids`` is among them (bounded)."""
        wanted = set(request_ids)
        deadline = time.monotonic() + WAIT
        while True:
            found = self.records(bucket)
            missing = wanted - {r["requestID"] for _, r in found}
            if not missing:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"not delivered to {bucket} within {WAIT}s: {sorted(missing)}")
            time.sleep(0.1)


def trail(server: Server, account: str, name: str, bucket: str, region: str = "us-east-1", **settings: Any) -> Any:
    """A trail delivering to the account's bucket ``bucket`` (made, with CloudTrail's policy, if need be)."""
    s3 = server.client("s3", key=account)
    full = bucket_of(bucket, account)
    if full not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=full)
        s3.put_bucket_policy(Bucket=full, Policy=cloudtrail_bucket_policy(full, account))
    ct = server.client("cloudtrail", key=account, region=region)
    ct.create_trail(Name=name, S3BucketName=full, **settings)
    return ct


def test_log_files_are_cloudtrail_logs_in_aws_key_layout(fast: Server) -> None:
    account = new_account()
    iam = fast.client("iam", key=account)
    before = rid(iam.create_user(UserName="before-logging"))
    ct = trail(fast, account, "audit", "audit-logs", S3KeyPrefix="team/audit")
    started = rid(ct.start_logging(Name="audit"))
    calls = [rid(iam.create_user(UserName="alice")), rid(iam.get_user(UserName="alice")),
             rid(ct.describe_trails())]
    found = Logs(fast, account).wait("audit-logs", [started, *calls])

    paths = {path for path, _ in found}
    for path in paths:
        key = KEY.fullmatch(path.as_posix())
        assert key is not None, path
        assert (key["bucket"], key["prefix"], key["account"]) == (bucket_of("audit-logs", account), "team/audit",
                                                                  account)
        document = json.loads(gzip.decompress(Logs(fast, account)._body(*path.as_posix().split("/", 1))))
        assert list(document) == ["Records"] and document["Records"]
        first = datetime.strptime(document["Records"][0]["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert (key["y"], key["m"], key["d"], key["stamp"]) == (
            f"{first:%Y}", f"{first:%m}", f"{first:%d}", f"{first:%Y%m%dT%H%MZ}")
        assert {r["awsRegion"] for r in document["Records"]} == {key["region"]}
    records = [r for _, r in found]
    for record in records:
        assert set(record) >= RECORD_FIELDS, sorted(RECORD_FIELDS - set(record))
        assert record["recipientAccountId"] == account and EVENT_TIME.fullmatch(record["eventTime"])
    by_request = {r["requestID"]: r for r in records}
    assert before not in by_request  # before StartLogging: not in the trail's files
    assert by_request[started]["eventName"] == "StartLogging"
    assert by_request[calls[0]]["eventName"] == "CreateUser"
    assert by_request[calls[0]]["requestParameters"] == {"userName": "alice"}
    assert by_request[calls[1]]["readOnly"] is True and by_request[calls[0]]["readOnly"] is False
    assert len({r["eventID"] for r in records}) == len(records)

    status = ct.get_trail_status(Name="audit")
    assert status["IsLogging"] is True and status["LatestDeliveryTime"] >= status["StartLoggingTime"]
    assert status["LatestDeliveryAttemptSucceeded"] == status["LatestDeliveryTime"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "LatestDeliveryError" not in status


def test_event_selectors_choose_reads_or_writes(fast: Server) -> None:
    account = new_account()
    iam = fast.client("iam", key=account)
    for name, bucket in (("reads", "reads-bucket"), ("writes", "writes-bucket"), ("creates", "creates-bucket")):
        trail(fast, account, name, bucket)
    ct = fast.client("cloudtrail", key=account)
    ct.put_event_selectors(TrailName="reads", EventSelectors=[{"ReadWriteType": "ReadOnly"}])
    ct.put_event_selectors(TrailName="writes", EventSelectors=[{"ReadWriteType": "WriteOnly"}])
    ct.put_event_selectors(TrailName="creates", AdvancedEventSelectors=[{"Name": "user creations", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "eventName", "Equals": ["CreateUser"]}]}])
    for name in ("reads", "writes", "creates"):
        ct.start_logging(Name=name)
    writes = [rid(iam.create_user(UserName="bob")),
              rid(iam.tag_user(UserName="bob", Tags=[{"Key": "k", "Value": "v"}]))]
    reads = [rid(iam.get_user(UserName="bob")), rid(iam.list_users())]
    writes.append(rid(iam.create_user(UserName="carol")))  # the last call of each kind is waited for
    reads.append(rid(iam.get_user(UserName="carol")))

    logs = Logs(fast, account)
    read_records = [r for _, r in logs.wait("reads-bucket", reads)]
    assert read_records and all(r["readOnly"] is True for r in read_records)
    assert not {r["requestID"] for r in read_records} & set(writes)
    write_records = [r for _, r in logs.wait("writes-bucket", writes)]
    assert write_records and all(r["readOnly"] is False for r in write_records)
    assert not {r["requestID"] for r in write_records} & set(reads)
    created = [r for _, r in logs.wait("creates-bucket", [writes[0], writes[2]])]
    assert [r["eventName"] for r in created] == ["CreateUser", "CreateUser"]


def test_stop_and_start_logging_gate_delivery(fast: Server) -> None:
    account = new_account()
    iam = fast.client("iam", key=account)
    ct = trail(fast, account, "on-off", "on-off-bucket")
    ct.start_logging(Name="on-off")
    while_on = rid(iam.create_user(UserName="first"))
    ct.stop_logging(Name="on-off")
    time.sleep(1.1)  # records carry whole seconds: keep the call out of the second logging stopped in
    while_off = rid(iam.create_user(UserName="second"))
    time.sleep(1.1)  # ... and out of the second logging starts again in
    ct.start_logging(Name="on-off")
    again = rid(iam.create_user(UserName="third"))
    records = {r["requestID"]: r for _, r in Logs(fast, account).wait("on-off-bucket", [while_on, again])}
    assert while_off not in records
    assert records[while_on]["requestParameters"] == {"userName": "first"}
    status = ct.get_trail_status(Name="on-off")
    assert status["IsLogging"] is True and status["StartLoggingTime"] > status["StopLoggingTime"]


def test_a_stopped_trail_delivers_nothing(fast: Server) -> None:
    account = new_account()
    iam = fast.client("iam", key=account)
    trail(fast, account, "never-started", "never-bucket")
    logging_trail = trail(fast, account, "started", "started-bucket")
    logging_trail.start_logging(Name="started")
    marker = rid(iam.create_user(UserName="someone"))
    Logs(fast, account).wait("started-bucket", [marker])  # a delivery pass has gone by
    assert Logs(fast, account).files("never-bucket") == []
    assert logging_trail.get_trail_status(Name="never-started")["LatestDeliveryAttemptTime"] == ""


def test_regions_and_global_service_events(fast: Server) -> None:
    account = new_account()
    trail(fast, account, "everywhere", "all-regions", IsMultiRegionTrail=True).start_logging(Name="everywhere")
    west = trail(fast, account, "west", "west-bucket", region="us-west-2")
    west.start_logging(Name="west")
    trail(fast, account, "west-local", "west-local-bucket", region="us-west-2", IncludeGlobalServiceEvents=False)
    west.start_logging(Name="west-local")
    europe = rid(fast.client("cloudtrail", key=account, region="eu-west-1").list_trails())
    global_call = rid(fast.client("iam", key=account).create_user(UserName="global-user"))
    last = rid(west.describe_trails())

    logs = Logs(fast, account)
    everywhere = {r["requestID"]: (p, r) for p, r in logs.wait("all-regions", [europe, global_call, last])}
    for request, region in ((europe, "eu-west-1"), (global_call, "us-east-1"), (last, "us-west-2")):
        path, record = everywhere[request]
        assert record["awsRegion"] == region and f"/CloudTrail/{region}/" in path.as_posix()
    west_records = {r["requestID"]: (p, r) for p, r in logs.wait("west-bucket", [global_call, last])}
    assert europe not in west_records
    assert "/CloudTrail/us-east-1/" in west_records[global_call][0].as_posix()  # IAM is logged in us-east-1
    local = {r["requestID"] for _, r in logs.wait("west-local-bucket", [last])}
    assert global_call not in local and europe not in local
    assert {p.parts[4] for p in logs.files("west-local-bucket")} == {"us-west-2"}


def test_restart_neither_loses_nor_repeats_events(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", ["--time-scale", "600"]).start()
    try:
        account = new_account()
        ct = trail(server, account, "durable", "durable-bucket")
        ct.start_logging(Name="durable")
        logs = Logs(server, account)
        iam = server.client("iam", key=account)
        first = [rid(iam.create_user(UserName=f"first-{n}")) for n in range(5)]
        logs.wait("durable-bucket", first)
        pending = [rid(iam.create_user(UserName=f"pending-{n}")) for n in range(5)]
        server.stop()  # graceful: what the recorder holds is written; delivery resumes from the trail's cursor
        server.start()
        iam = server.client("iam", key=account)
        after = [rid(iam.create_user(UserName=f"after-{n}")) for n in range(5)]
        logs.wait("durable-bucket", first + pending + after)
        server.kill()  # kill -9 once delivered: the cursor was committed with the files
        server.start()
        iam = server.client("iam", key=account)
        last = [rid(iam.create_user(UserName=f"last-{n}")) for n in range(3)]
        records = [r for _, r in logs.wait("durable-bucket", first + pending + after + last)]
        event_ids = [r["eventID"] for r in records]
        assert len(event_ids) == len(set(event_ids))  # nothing delivered twice
        requests = [r["requestID"] for r in records if r["eventName"] == "CreateUser"]
        assert sorted(requests) == sorted(first + pending + after + last)
        status = server.client("cloudtrail", key=account).get_trail_status(Name="durable")
        assert status["IsLogging"] is True and "LatestDeliveryTime" in status
    finally:
        server.stop()


def test_delivery_in_process_by_interval_and_by_size(tmp_path: Path) -> None:
    """``deliver_due`` on a manual clock: nothing before five minutes, everything after, sooner at 1,000 events;
    ``deliver_now`` delivers what is pending at once."""
    from turnout.core.clock import ManualClock
    from turnout.core.principal import Principal
    from turnout.server import Settings, build_gateway
    from turnout.services.cloudtrail import delivery

    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    gateway = build_gateway(Settings(data_dir=tmp_path / "data"), clock=clock)
    root = Principal.root("000000000000")

    def call(service: str, operation: str, **params: Any) -> str:
        ctx = gateway.invoke(service, operation, params, root)
        assert ctx.error is None, ctx.error
        return ctx.request_id

    try:
        bucket = bucket_of("local-bucket", "000000000000")
        call("s3", "CreateBucket", Bucket=bucket)
        call("s3", "PutBucketPolicy", Bucket=bucket, Policy=cloudtrail_bucket_policy(bucket, "000000000000"))
        call("cloudtrail", "CreateTrail", Name="in-process", S3BucketName=bucket)
        call("cloudtrail", "StartLogging", Name="in-process")
        created = [call("iam", "CreateUser", UserName=f"user-{n}") for n in range(5)]
        logs = Logs(None, "000000000000", gateway.db)
        assert delivery.deliver_due(gateway) == 0 and logs.files() == []
        clock.advance(delivery.INTERVAL)
        assert delivery.deliver_due(gateway) == 1
        assert set(created) <= {r["requestID"] for _, r in logs.records()}
        reads = [call("iam", "GetUser", UserName="user-0") for _ in range(delivery.THRESHOLD)]
        assert delivery.deliver_due(gateway) >= 1  # the interval is not up, the size threshold is
        documents = [json.loads(gzip.decompress(logs._body(*p.as_posix().split("/", 1))))["Records"]
                     for p in logs.files()]
        assert all(len(records) <= delivery.MAX_RECORDS_PER_FILE for records in documents)
        delivered = [r["requestID"] for records in documents for r in records]
        assert set(reads) <= set(delivered) and len(delivered) == len(set(delivered))
        last = call("iam", "ListUsers")
        assert delivery.deliver_now(gateway) == 1
        assert last in {r["requestID"] for _, r in logs.records()}
        assert delivery.deliver_now(gateway) == 0
    finally:
        gateway.db.close()
