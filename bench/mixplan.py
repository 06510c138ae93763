"""The request mix of the ``mixed`` benchmark, planned and signed before anything is measured.

Each client repeats a cycle of ``CYCLE`` slots (its own deterministic shuffle of the same slots): 80 reads of several
services weighted as in ``READS`` and 20 writes. A client's writes come in order from its own sequence, CreateUser of
a new user, TagRole, DeleteUser of that user, TagRole, ... so that every DeleteUser follows its CreateUser on the
same connection, and every write has a name no other write uses. Reads rotate over the fixture's users, roles and
clusters. Every request is signed with botocore's SigV4 once, before the measured window (a signature is valid for
15 minutes): a read's bytes are replayed, a write's are used once. The generator only sends bytes.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from urllib.parse import urlencode

from .common import ACCESS_KEY, HOST, REGION, SECRET_KEY

CYCLE = 100  # slots per cycle: the weights below are per 100 requests
WRITES_PER_CYCLE = 20
SEED = 11

# (service, operation): slots per cycle. 80 in all; CloudTrail's LookupEvents rarely.
READS: dict[tuple[str, str], int] = {
    ("iam", "GetRole"): 18,
    ("iam", "GetRolePolicy"): 4,
    ("iam", "ListRoles"): 4,
    ("iam", "GetUser"): 10,
    ("sts", "GetCallerIdentity"): 10,
    ("ecs", "DescribeClusters"): 10,
    ("ecs", "ListClusters"): 5,
    ("ec2", "DescribeVpcs"): 9,
    ("elbv2", "DescribeLoadBalancers"): 9,
    ("cloudtrail", "LookupEvents"): 1,
}
# A client's writes, in this order, over and over (CreateUser and DeleteUser of the same new user).
WRITE_SEQUENCE: tuple[tuple[str, str], ...] = (
    ("iam", "CreateUser"), ("iam", "TagRole"), ("iam", "DeleteUser"), ("iam", "TagRole"),
)
HEAVY = ("iam", "GetAccountAuthorizationDetails")
TAG_KEYS = 40  # distinct tag keys TagRole uses (AWS allows 50 tags per role)

# Wire details per service: (protocol, signing name, API version or JSON target prefix).
SERVICES: dict[str, tuple[str, str, str]] = {
    "iam": ("query", "iam", "2010-05-08"),
    "sts": ("query", "sts", "2011-06-15"),
    "ec2": ("query", "ec2", "2016-11-15"),
    "elbv2": ("query", "elasticloadbalancing", "2015-12-01"),
    "ecs": ("json", "ecs", "AmazonEC2ContainerServiceV20141113"),
    "cloudtrail": ("json", "cloudtrail", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"),
}


def label(service: str, operation: str) -> str:
    return f"{service}:{operation}"


def sign(port: int, service: str, operation: str, params: dict[str, object]) -> bytes:
    """The exact bytes of one SigV4-signed request (root credentials) to 127.0.0.1:port, ready to send."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    protocol, signing_name, version = SERVICES[service]
    host = f"{HOST}:{port}"
    headers = {"Host": host}
    if protocol == "query":
        body = urlencode({"Action": operation, "Version": version, **{k: str(v) for k, v in params.items()}}).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    else:
        body = json.dumps(params).encode()
        headers["Content-Type"] = "application/x-amz-json-1.1"
        headers["X-Amz-Target"] = f"{version}.{operation}"
    request = AWSRequest(method="POST", url=f"http://{host}/", data=body, headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), signing_name, REGION).add_auth(request)
    head = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in request.headers.items()
                                            if k.lower() != "content-length")
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode("latin-1") + body


@dataclass(frozen=True)
class Fixture:
    """What setup created, for the reads to name."""

    users: tuple[str, ...]
    roles: tuple[str, ...]  # each with the inline policy ``policy``
    policy: str
    clusters: tuple[str, ...]


def read_params(service: str, operation: str, fixture: Fixture, variant: int) -> dict[str, object]:
    """The parameters of the ``variant``-th request of a read (rotating over the fixture's names)."""
    roles, users, clusters = fixture.roles, fixture.users, fixture.clusters
    match operation:
        case "GetRole":
            return {"RoleName": roles[variant % len(roles)]}
        case "GetRolePolicy":
            return {"RoleName": roles[variant % len(roles)], "PolicyName": fixture.policy}
        case "ListRoles":
            return {"MaxItems": 20}
        case "GetUser":
            return {"UserName": users[variant % len(users)]}
        case "DescribeClusters":
            return {"clusters": [clusters[variant % len(clusters)]]}
        case "LookupEvents":
            return {"MaxResults": 10}
        case _:
            return {}


def read_variants(operation: str, fixture: Fixture) -> int:
    """How many different requests a read rotates over."""
    if operation in ("GetRole", "GetRolePolicy"):
        return len(fixture.roles)
    if operation == "GetUser":
        return len(fixture.users)
    if operation == "DescribeClusters":
        return len(fixture.clusters)
    return 1


def write_params(operation: str, fixture: Fixture, prefix: str, client: int, number: int) -> dict[str, object]:
    """The ``number``-th write of ``client`` (0-based over its sequence); user names are unique per prefix."""
    user = f"{prefix}-c{client}-u{number // len(WRITE_SEQUENCE)}"
    match operation:
        case "CreateUser" | "DeleteUser":
            return {"UserName": user}
        case "TagRole":
            return {"RoleName": fixture.roles[(client + number) % len(fixture.roles)],
                    "Tags.member.1.Key": f"mix{client % TAG_KEYS}", "Tags.member.1.Value": f"{prefix}-{number}"}
    raise ValueError(f"not a planned write: {operation}")


def cycle_slots() -> list[tuple[str, str] | None]:
    """One cycle's slots in a fixed order: each read once per weight, ``None`` for a write."""
    slots: list[tuple[str, str] | None] = [op for op, weight in READS.items() for _ in range(weight)]
    slots += [None] * WRITES_PER_CYCLE
    assert len(slots) == CYCLE
    return slots


@dataclass
class Plan:
    """Every client's requests: ``requests`` holds (label index, raw bytes); a client's ``cycle`` lists request
    indexes, -1 for "its next write", and ``writes`` its write requests in order."""

    labels: list[str] = field(default_factory=list)
    requests: list[tuple[int, bytes]] = field(default_factory=list)
    cycles: list[list[int]] = field(default_factory=list)
    writes: list[list[int]] = field(default_factory=list)

    def label_index(self, name: str) -> int:
        if name not in self.labels:
            self.labels.append(name)
        return self.labels.index(name)

    def add(self, name: str, raw: bytes) -> int:
        self.requests.append((self.label_index(name), raw))
        return len(self.requests) - 1


def writes_per_client(clients: int, seconds: float, planned_rps: float) -> int:
    """Writes to sign per client so that ``clients`` together can run ``planned_rps`` for ``seconds``; a whole
    number of write sequences (so that each CreateUser's DeleteUser is signed too)."""
    per_client = planned_rps * seconds * WRITES_PER_CYCLE / CYCLE / clients
    return max(1, math.ceil(per_client / len(WRITE_SEQUENCE))) * len(WRITE_SEQUENCE)


def build_plan(port: int, fixture: Fixture, clients: int, writes: int, prefix: str) -> Plan:
    """Sign every client's reads (one request per read variant, shared by clients) and ``writes`` writes each."""
    plan = Plan()
    variants: dict[tuple[str, str], list[int]] = {}
    for service, operation in READS:
        name = label(service, operation)
        variants[(service, operation)] = [
            plan.add(name, sign(port, service, operation, read_params(service, operation, fixture, v)))
            for v in range(read_variants(operation, fixture))
        ]
    slots = cycle_slots()
    for client in range(clients):
        order = list(range(CYCLE))
        random.Random(SEED * 1000 + client).shuffle(order)
        cycle: list[int] = []
        turns: dict[tuple[str, str], int] = {}
        for at in order:
            slot = slots[at]
            if slot is None:
                cycle.append(-1)
                continue
            turn = turns.get(slot, 0)
            turns[slot] = turn + 1
            choices = variants[slot]
            cycle.append(choices[(client * 7 + turn) % len(choices)])
        plan.cycles.append(cycle)
        own = []
        for number in range(writes):
            service, operation = WRITE_SEQUENCE[number % len(WRITE_SEQUENCE)]
            params = write_params(operation, fixture, prefix, client, number)
            own.append(plan.add(label(service, operation), sign(port, service, operation, params)))
        plan.writes.append(own)
    return plan
