"""The pure logic of the ``mixed`` benchmark (bench/mixplan.py, bench/mixstats.py): the request mix it plans and
signs, and the arithmetic of its tables. No server, no timing."""

from __future__ import annotations

from collections import Counter
from urllib.parse import parse_qs

from bench.common import percentile
from bench.mixgen import Samples
from bench.mixplan import (
    CYCLE,
    READS,
    WRITE_SEQUENCE,
    WRITES_PER_CYCLE,
    Fixture,
    build_plan,
    cycle_slots,
    writes_per_client,
)
from bench.mixstats import in_window, merge, overlaps, rows_by_label

FIXTURE = Fixture(users=("u0", "u1", "u2"), roles=("r0", "r1"), policy="p", clusters=("c0", "c1"))


def _body(raw: bytes) -> tuple[dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:])
    return headers, body


def _query(raw: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(_body(raw)[1].decode()).items()}


def test_a_cycle_is_eighty_reads_and_twenty_writes() -> None:
    slots = cycle_slots()
    assert len(slots) == CYCLE == 100
    assert slots.count(None) == WRITES_PER_CYCLE == 20
    reads = Counter(slot for slot in slots if slot is not None)
    assert reads == Counter(READS)
    assert reads[("cloudtrail", "LookupEvents")] == 1  # rarely


def test_every_client_cycle_keeps_the_mix_and_writes_are_signed_in_order() -> None:
    plan = build_plan(1, FIXTURE, clients=3, writes=8, prefix="t")
    assert len(plan.cycles) == len(plan.writes) == 3
    for cycle in plan.cycles:
        assert len(cycle) == CYCLE and cycle.count(-1) == WRITES_PER_CYCLE
        labels = Counter(plan.labels[plan.requests[i][0]] for i in cycle if i >= 0)
        assert labels == Counter({f"{s}:{o}": n for (s, o), n in READS.items()})
    assert plan.cycles[0] != plan.cycles[1]  # each client its own order
    created: list[str] = []
    for own in plan.writes:
        ops = [plan.labels[plan.requests[i][0]] for i in own]
        assert ops == [f"{s}:{o}" for s, o in WRITE_SEQUENCE] * 2
        users = [_query(plan.requests[i][1]).get("UserName") for i in own]
        # CreateUser u, TagRole, DeleteUser u, TagRole: each new user is deleted by the same client, afterwards
        assert users[0] == users[2] and users[4] == users[6] and users[0] != users[4]
        created += [users[0], users[4]]
    assert len(set(created)) == len(created)  # no two writes create the same user


def test_signed_requests_are_complete_http_requests_of_their_protocol() -> None:
    plan = build_plan(4566, FIXTURE, clients=1, writes=4, prefix="t")
    seen = set()
    for label_index, raw in plan.requests:
        headers, body = _body(raw)
        assert raw.startswith(b"POST / HTTP/1.1\r\n")
        assert int(headers["Content-Length"]) == len(body)
        assert headers["Host"] == "127.0.0.1:4566"
        assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=test/")
        service, operation = plan.labels[label_index].split(":")
        if service in ("ecs", "cloudtrail"):
            assert headers["X-Amz-Target"].endswith(f".{operation}")
            assert "/us-east-1/" + service + "/aws4_request" in headers["Authorization"]
        else:
            assert _query(raw)["Action"] == operation
        seen.add(service)
    assert seen == {"iam", "sts", "ecs", "ec2", "elbv2", "cloudtrail"}
    elbv2 = next(raw for i, raw in plan.requests if plan.labels[i].startswith("elbv2:"))
    assert b"/elasticloadbalancing/aws4_request" in elbv2  # elbv2 signs with its signing name


def test_writes_are_planned_for_the_throughput_asked() -> None:
    per_client = writes_per_client(clients=50, seconds=13, planned_rps=6000)
    assert per_client % len(WRITE_SEQUENCE) == 0
    assert per_client * 50 >= 6000 * 13 * WRITES_PER_CYCLE / CYCLE
    assert writes_per_client(clients=50, seconds=0.1, planned_rps=100) == len(WRITE_SEQUENCE)


def test_tag_role_never_gives_a_role_more_than_fifty_tag_keys() -> None:
    plan = build_plan(1, FIXTURE, clients=60, writes=4, prefix="t")
    keys: dict[str, set[str]] = {}
    for label_index, raw in plan.requests:
        if plan.labels[label_index] == "iam:TagRole":
            query = _query(raw)
            keys.setdefault(query["RoleName"], set()).add(query["Tags.member.1.Key"])
    assert keys and all(len(k) <= 50 for k in keys.values())


def test_merge_and_overlaps() -> None:
    busy = merge([(50, 60), (10, 20), (15, 30), (30, 35)])
    assert busy == [(10, 35), (50, 60)]
    assert overlaps(0, 10, busy)  # touches the start
    assert overlaps(35, 40, busy)  # touches the end
    assert overlaps(40, 55, busy)
    assert overlaps(12, 13, busy)
    assert not overlaps(36, 49, busy)
    assert not overlaps(0, 9, busy)
    assert not overlaps(61, 70, busy)
    assert not overlaps(1, 2, [])


def test_window_and_rows_count_every_non_200_as_an_error() -> None:
    samples = Samples()
    for label, status, sent, done in [(0, 200, 0, 5_000_000), (0, 200, 10, 2_000_010), (1, 503, 0, 1_000_000),
                                      (1, 0, 0, 3_000_000), (0, 404, 0, 4_000_000), (1, 200, 0, 99_000_000)]:
        samples.add(label, status, sent, done)
    chosen = in_window(samples, 1_000_000, 99_000_000)  # done in [start, end): the first 5
    assert chosen == [0, 1, 2, 3, 4]
    rows = rows_by_label(samples, ["a", "b"], chosen, "all")
    by_op = {row["op"]: row for row in rows}
    assert by_op["a"]["calls"] == 3 and by_op["a"]["errors"] == 1  # the 404
    assert by_op["b"]["calls"] == 2 and by_op["b"]["errors"] == 2  # a 503 and a socket error
    assert by_op["all"]["calls"] == 5 and by_op["all"]["errors"] == 3
    assert by_op["all"]["statuses"] == {"0": 1, "200": 2, "404": 1, "503": 1}
    assert by_op["a"]["max_ms"] == 5.0 and by_op["a"]["p50_ms"] == 4.0


def test_nearest_rank_percentile() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 99) == 0.0
    assert percentile([1.0, 2.0, 3.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0  # rank ceil(2.0) = 2, not 3 (round-half-even gave 2 or 3)
    assert percentile([float(v) for v in range(1, 201)], 99) == 198.0
