"""The ECS fleet of the ``deployments`` benchmark: raw SigV4-signed ECS calls on kept-alive connections with their
latencies, building N blue/green services through boto3, watching their deployments, the side-client readers and
the UpdateService workers."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .common import (
    HOST,
    REGION,
    BenchError,
    Response,
    ServerProcess,
    boto_client,
    connect,
    parse_head,
    percentile,
    table,
)

TARGET = "AmazonEC2ContainerServiceV20141113"
FINAL = {"SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"}
MANAGED = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}
FIXED_404 = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
READS = ("DescribeServices", "DescribeServiceDeployments", "ListTasks")
BATCH = 10  # services per DescribeServices (AWS's maximum), deployments per side-client DescribeServiceDeployments
WATCH_BATCH = 20  # DescribeServiceDeployments' maximum



# -- raw signed ECS calls -------------------------------------------------------------------------------------------


@dataclass
class Calls:
    """Latency samples (ms) per operation, and errors; shared by threads (appends only, under the GIL)."""

    ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)

    def count(self) -> int:
        return sum(len(v) for v in self.ms.values()) + len(self.errors)


def _signed(port: int, op: str, body: dict[str, Any]) -> bytes:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    host = f"{HOST}:{port}"
    data = json.dumps(body).encode()
    request = AWSRequest(method="POST", url=f"http://{host}/", data=data, headers={
        "Host": host, "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"{TARGET}.{op}"})
    SigV4Auth(Credentials("test", "test"), "ecs", REGION).add_auth(request)
    head = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in request.headers.items()
                                            if k.lower() != "content-length")
    return f"{head}Content-Length: {len(data)}\r\n\r\n".encode("latin-1") + data


class Conn:
    """One client connection kept alive between calls, as boto3's connection pool does. Opened (untimed) when
    needed: first use, after the server closed it (moto closes after every response), after an error."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def request(self, raw: bytes, timeout: float = 30.0) -> tuple[float, Response]:
        """(ms from sending the request to the last byte of its answer, the answer)."""
        for attempt in (1, 2):
            reused = self.sock is not None
            if self.sock is None:
                self.sock = connect(self.port, timeout)
            started = time.perf_counter()
            try:
                self.sock.sendall(raw)
                response = self._read(self.sock, timeout)
            except OSError:
                self.close()
                if reused and attempt == 1:
                    continue  # the server dropped an idle kept-alive connection: once more on a new one
                raise
            elapsed = (time.perf_counter() - started) * 1000
            if response.headers.get("connection", "").lower() == "close":
                self.close()
            return elapsed, response
        raise AssertionError("unreachable")

    @staticmethod
    def _read(sock: socket.socket, timeout: float) -> Response:
        buf, deadline = b"", time.monotonic() + timeout
        while b"\r\n\r\n" not in buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no complete response head")
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed before the response head")
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        status, headers = parse_head(head)
        if "content-length" not in headers:
            raise ConnectionError(f"an answer without Content-Length (HTTP {status})")
        length = int(headers["content-length"])
        while len(body) < length:
            if time.monotonic() > deadline:
                raise TimeoutError("incomplete response body")
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed before the whole body")
            body += chunk
        return Response(status, headers, body)


_local = threading.local()


def _conn(port: int) -> Conn:
    conns: dict[int, Conn] = _local.__dict__.setdefault("conns", {})
    if port not in conns:
        conns[port] = Conn(port)
    return conns[port]


def call(port: int, op: str, body: dict[str, Any], calls: Calls | None = None) -> dict[str, Any] | None:
    """One ECS call; its latency goes to ``calls``. None (and an error recorded) unless it answered 200."""
    raw = _signed(port, op, body)
    try:
        elapsed, response = _conn(port).request(raw)
    except OSError as exc:
        if calls is not None:
            calls.errors.append(f"{op}: {exc!r}")
        return None
    if response.status != 200:
        if calls is not None:
            calls.errors.append(f"{op}: HTTP {response.status} {response.body[:300]!r}")
        return None
    if calls is not None:
        calls.ms[op].append(elapsed)
    answer: dict[str, Any] = json.loads(response.body or b"{}")
    return answer


def latency_row(label: str, samples: list[float], errors: int = 0) -> dict[str, Any]:
    ordered = sorted(samples)
    return {"op": label, "calls": len(ordered), "errors": errors,
            **{f"p{p}_ms": round(percentile(ordered, p), 2) for p in (50, 95, 99)},
            "max_ms": round(ordered[-1], 2) if ordered else 0.0}


def print_latencies(rows: list[dict[str, Any]]) -> None:
    print(table(["operation", "calls", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"],
                [[r["op"], r["calls"], f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}", f"{r['p99_ms']:.2f}",
                  f"{r['max_ms']:.2f}", r["errors"]] for r in rows]))


# -- the fleet (setup, not measured) --------------------------------------------------------------------------------


@dataclass
class Fleet:
    cluster: str
    revisions: list[str]
    services: list[str]
    current: list[str]  # each service's latest deployment ARN (empty on moto, which has none)


def build_fleet(server: ServerProcess, services: int, per_alb: int, *, managed: bool = True) -> Fleet:
    """The shared ELB/IAM/ECS setup and the services, through boto3 as root (``managed``: attach AWS's managed
    policy to the infrastructure role; moto does not have it)."""
    iam, ec2, elb, ecs = (boto_client(server.port, s) for s in ("iam", "ec2", "elbv2", "ecs"))
    role = iam.create_role(RoleName="bench-ecs-infra", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    if managed:
        iam.attach_role_policy(RoleName="bench-ecs-infra", PolicyArn=MANAGED)
    default = [{"Name": "is-default", "Values": ["true"]}]
    vpcs = ec2.describe_vpcs(Filters=default)["Vpcs"] or ec2.describe_vpcs()["Vpcs"]
    vpc = vpcs[0]["VpcId"]
    subnets = sorted(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"],
                     key=lambda s: s["AvailabilityZone"])
    subnet_ids = [s["SubnetId"] for s in subnets[:2]]
    group = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                  {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    cluster = ecs.create_cluster(clusterName="bench-deployments")["cluster"]["clusterName"]
    revisions = []
    for version in ("1.27", "1.28"):
        container = {"name": "web", "image": f"public.ecr.aws/nginx/nginx:{version}", "essential": True,
                     "portMappings": [{"containerPort": 80}]}
        revisions.append(ecs.register_task_definition(
            family="bench-web", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[container])["taskDefinition"]["taskDefinitionArn"])
    network = {"awsvpcConfiguration": {"subnets": subnet_ids, "assignPublicIp": "DISABLED",
                                       "securityGroups": [g["GroupId"] for g in group[:1]]}}
    names, current = [], []
    listeners: list[str] = []
    for index in range(services):
        if index % per_alb == 0:
            lb = elb.create_load_balancer(Name=f"bench-dep-{index // per_alb}", Subnets=subnet_ids,
                                          Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
            listeners = [elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=port,
                                             DefaultActions=FIXED_404)["Listeners"][0]["ListenerArn"]
                         for port in (80, 8080)]
        blue, green = (_target_group(elb, vpc, f"bdep-{index:03d}-{color}") for color in ("blue", "green"))
        priority, path = index % per_alb + 1, [{"Field": "path-pattern", "Values": [f"/s{index}/*"]}]
        prod = elb.create_rule(ListenerArn=listeners[0], Priority=priority, Conditions=path, Actions=[
            {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": blue, "Weight": 100},
                                                                   {"TargetGroupArn": green, "Weight": 0}]}}])
        test = elb.create_rule(ListenerArn=listeners[1], Priority=priority, Conditions=path,
                               Actions=[{"Type": "forward", "TargetGroupArn": green}])
        advanced = {"alternateTargetGroupArn": green, "productionListenerRule": prod["Rules"][0]["RuleArn"],
                    "testListenerRule": test["Rules"][0]["RuleArn"], "roleArn": role}
        service = ecs.create_service(
            cluster=cluster, serviceName=f"svc-{index:03d}", taskDefinition=revisions[0], desiredCount=2,
            launchType="FARGATE", networkConfiguration=network,
            loadBalancers=[{"targetGroupArn": blue, "containerName": "web", "containerPort": 80,
                            "advancedConfiguration": advanced}],
            deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})["service"]
        names.append(service["serviceName"])
        current.append(service.get("currentServiceDeployment", ""))
    return Fleet(cluster, revisions, names, current)


def _target_group(elb: Any, vpc: str, name: str) -> str:
    arn: str = elb.create_target_group(
        Name=name, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip", HealthCheckIntervalSeconds=5,
        HealthyThresholdCount=2, UnhealthyThresholdCount=2, HealthCheckTimeoutSeconds=2)["TargetGroups"][0][
        "TargetGroupArn"]
    elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "5"}])
    return arn


def watch(port: int, arns: list[str], timeout: float, calls: Calls | None = None) -> dict[str, dict[str, Any]]:
    """Poll DescribeServiceDeployments until every deployment is final: ARN -> its last description, with the
    monotonic time it was first seen final under ``_seen``. BenchError after ``timeout`` seconds."""
    pending, done = list(dict.fromkeys(arns)), {}
    deadline = time.monotonic() + timeout
    while pending:
        if time.monotonic() > deadline:
            raise BenchError(f"{len(pending)} of {len(arns)} deployments not final after {timeout:g} s, e.g. "
                             f"{pending[0]}")
        for start in range(0, len(pending), WATCH_BATCH):
            answer = call(port, "DescribeServiceDeployments",
                          {"serviceDeploymentArns": pending[start:start + WATCH_BATCH]}, calls)
            for found in (answer or {}).get("serviceDeployments", []):
                if found["status"] in FINAL:
                    done[found["serviceDeploymentArn"]] = {**found, "_seen": time.monotonic()}
        pending = [a for a in pending if a not in done]
        time.sleep(0.02)
    return done


def check_successful(done: dict[str, dict[str, Any]], what: str) -> None:
    failed = [d for d in done.values() if d["status"] != "SUCCESSFUL"]
    if failed:
        reasons = Counter(f"{d['status']}: {d.get('statusReason', '')}" for d in failed)
        raise BenchError(f"{len(failed)} of {len(done)} {what} did not succeed: " +
                         "; ".join(f"{n}x {r}" for r, n in reasons.most_common(5)))


# -- the side client ------------------------------------------------------------------------------------------------


class Readers:
    """``count`` threads cycling the read operations (closed loop) until stopped."""

    def __init__(self, port: int, fleet: Fleet, count: int, ops: tuple[str, ...]) -> None:
        self.port, self.fleet, self.ops = port, fleet, ops
        self.calls = Calls()
        self.stop_event = threading.Event()
        self.threads = [threading.Thread(target=self._loop, args=(n,), daemon=True) for n in range(count)]

    def _body(self, op: str, turn: int) -> dict[str, Any]:
        names, n = self.fleet.services, len(self.fleet.services)
        first = (turn * BATCH) % n
        if op == "DescribeServices":
            return {"cluster": self.fleet.cluster, "services": [names[(first + k) % n] for k in range(min(BATCH, n))]}
        if op == "DescribeServiceDeployments":
            arns = [self.fleet.current[(first + k) % n] for k in range(min(BATCH, n))]
            return {"serviceDeploymentArns": list(dict.fromkeys(arns))}
        return {"cluster": self.fleet.cluster, "serviceName": names[turn % n]}

    def _loop(self, number: int) -> None:
        turn = number * 7
        while not self.stop_event.is_set():
            op = self.ops[turn % len(self.ops)]
            call(self.port, op, self._body(op, turn // len(self.ops)), self.calls)
            turn += 1

    def __enter__(self) -> Readers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(60)

    def rows(self) -> list[dict[str, Any]]:
        errors = Counter(e.split(":", 1)[0] for e in self.calls.errors)
        rows = [latency_row(op, self.calls.ms.get(op, []), errors[op]) for op in self.ops]
        every = [ms for op in self.ops for ms in self.calls.ms.get(op, [])]
        return [*rows, latency_row("all side-client calls", every, len(self.calls.errors))]


def update_all(port: int, fleet: Fleet, revision: int, workers: int, calls: Calls,
               services: range | None = None) -> list[str]:
    """UpdateService of every service (or of ``services``) to ``revision`` (0-based); the new deployments' ARNs
    (also recorded in ``fleet.current``)."""
    chosen = range(len(fleet.services)) if services is None else services

    def one(index: int) -> None:
        answer = call(port, "UpdateService", {"cluster": fleet.cluster, "service": fleet.services[index],
                                              "taskDefinition": fleet.revisions[revision]}, calls)
        if answer is not None:
            fleet.current[index] = answer["service"].get("currentServiceDeployment", "")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, chosen))
    if calls.errors:
        raise BenchError(f"{len(calls.errors)} UpdateService calls failed, e.g. {calls.errors[0]}")
    return [fleet.current[i] for i in chosen]


# -- py-spy ---------------------------------------------------------------------------------------------------------


