"""Listeners serve HTTP on loopback (issue 13): rules of every condition type, fixed responses, redirects,
forwarding to loopback targets with the ALB's headers, weights, real health checks, fail-open and draining.
Driven by boto3 for the API and plain HTTP clients on the listeners."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import Server
from tests.e2e.dataplane_support import StandIn, dataplane, listener_address, request, wait_for


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("dataplane") / "data", ["--time-scale", "100"]).start()
    yield server
    server.stop()


@pytest.fixture
def stand_ins() -> Iterator[Callable[[str], StandIn]]:
    made: list[StandIn] = []

    def make(name: str) -> StandIn:
        made.append(StandIn(name))
        return made[-1]

    yield make
    for stand_in in made:
        stand_in.close()


def _network(server: Server) -> tuple[str, list[str]]:
    ec2 = server.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = sorted(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"],
                     key=lambda s: s["AvailabilityZone"])
    return vpc, [s["SubnetId"] for s in subnets[:2]]


def _alb(server: Server, name: str) -> tuple[str, str]:
    vpc, subnets = _network(server)
    lb = server.client("elbv2").create_load_balancer(Name=name, Subnets=subnets, Type="application")
    return lb["LoadBalancers"][0]["LoadBalancerArn"], vpc


def _fixed(text: str, status: str = "200") -> list[dict[str, Any]]:
    return [{"Type": "fixed-response", "FixedResponseConfig": {
        "StatusCode": status, "ContentType": "text/plain", "MessageBody": text}}]


def _group(server: Server, name: str, vpc: str, *, interval: int = 5) -> str:
    elb = server.client("elbv2")
    arn: str = elb.create_target_group(
        Name=name[:32], Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip", HealthCheckPath="/health",
        HealthCheckIntervalSeconds=interval, HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
        UnhealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "5"}])
    return arn


def _states(server: Server, group: str) -> dict[str, str]:
    found = server.client("elbv2").describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    return {f"{d['Target']['Id']}:{d['Target']['Port']}": d["TargetHealth"]["State"] for d in found}


def test_a_listener_serves_on_loopback_and_is_listed(srv: Server, unique: Callable[[str], str]) -> None:
    elb = srv.client("elbv2")
    lb_arn, _ = _alb(srv, unique("serve"))
    listener = elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80,
                                   DefaultActions=_fixed("hello from the default rule"))["Listeners"][0]
    host, port = listener_address(srv, listener["ListenerArn"])
    assert host == "127.0.0.1"
    assert port >= 1024  # port 80 is below 1024: mapped (80 + 8000, or the next free port above it)
    answer = request((host, port), "/anything")
    assert answer.status == 200
    assert answer.body == b"hello from the default rule"
    assert answer.headers["content-type"].startswith("text/plain")
    listed = next(i for i in dataplane(srv)["listeners"] if i["listenerArn"] == listener["ListenerArn"])
    assert listed["port"] == 80 and listed["loadBalancerArn"] == lb_arn
    # The load balancer's DNS name reaches it where *.localhost resolves to loopback (curl resolves it itself).
    dns = elb.describe_load_balancers(LoadBalancerArns=[lb_arn])["LoadBalancers"][0]["DNSName"]
    assert dns.endswith(".elb.localhost")
    if shutil.which("curl"):
        done = subprocess.run(["curl", "-s", "--max-time", "10", f"http://{dns}:{port}/"], capture_output=True,
                              timeout=20, check=False)
        assert done.stdout == b"hello from the default rule"

    # A second load balancer's listener on the same port is served too, on another local port.
    other_lb, _ = _alb(srv, unique("serve"))
    other = elb.create_listener(LoadBalancerArn=other_lb, Protocol="HTTP", Port=80,
                                DefaultActions=_fixed("the other one"))["Listeners"][0]
    other_address = listener_address(srv, other["ListenerArn"])
    assert other_address != (host, port)
    assert request(other_address).body == b"the other one"

    # ModifyListener changes what the same address answers; DeleteListener stops serving it.
    elb.modify_listener(ListenerArn=listener["ListenerArn"], DefaultActions=_fixed("changed", "503"))
    changed = wait_for(lambda: (a := request((host, port))).status == 503 and a, message="modified listener")
    assert changed.body == b"changed"
    elb.delete_listener(ListenerArn=listener["ListenerArn"])
    wait_for(lambda: all(i["listenerArn"] != listener["ListenerArn"] for i in dataplane(srv)["listeners"]),
             message="deleted listener unlisted")

    def refused() -> bool:
        try:
            request((host, port), timeout=2)
        except OSError:
            return True
        return False
    wait_for(refused, message="deleted listener's port closed")


def test_rules_of_every_condition_type(srv: Server, unique: Callable[[str], str]) -> None:
    elb = srv.client("elbv2")
    lb_arn, _ = _alb(srv, unique("rules"))
    listener = elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=8000,
                                   DefaultActions=_fixed("default", "404"))["Listeners"][0]["ListenerArn"]
    rules: list[tuple[list[dict[str, Any]], str]] = [
        ([{"Field": "host-header", "HostHeaderConfig": {"Values": ["*.api.example.com"]}}], "host"),
        ([{"Field": "path-pattern", "Values": ["/img/*.png"]}], "path"),
        ([{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Env", "Values": ["beta*"]}}], "header"),
        ([{"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["PUT"]}}], "method"),
        ([{"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "version", "Value": "v?"}]}}], "query"),
        ([{"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8"]}}], "never"),
        ([{"Field": "source-ip", "SourceIpConfig": {"Values": ["127.0.0.0/8"]}},
          {"Field": "path-pattern", "Values": ["/local"]}], "source"),
    ]
    for priority, (conditions, text) in enumerate(rules, start=1):
        elb.create_rule(ListenerArn=listener, Priority=priority, Conditions=conditions, Actions=_fixed(text))
    address = listener_address(srv, listener)

    def says(path: str, **kwargs: Any) -> str:
        answer = request(address, path, **kwargs)
        return answer.body.decode()

    assert says("/", headers={"Host": "v2.API.example.com"}) == "host"  # host-header: not case-sensitive
    assert says("/", headers={"Host": "api.example.com"}) == "default"  # '*.' needs a label before it
    assert says("/img/cat.png") == "path"
    assert says("/IMG/cat.png") == "default"  # path-pattern: case-sensitive
    assert says("/img/cat.png?x=1") == "path"  # the query string is not part of the path
    assert says("/", headers={"x-env": "BETA-2"}) == "header"  # http-header: name and value not case-sensitive
    assert says("/", method="PUT") == "method"
    assert says("/", method="PATCH") == "default"  # http-request-method: an exact match
    assert says("/?version=V2") == "query"  # query-string: not case-sensitive, '?' is one character
    assert says("/?version=v10") == "default"
    assert says("/local") == "source"  # source-ip: the TCP peer; 10.0.0.0/8 never matched
    assert says("/nothing") == "default"
    # Priority: a request matching two rules gets the lower priority's.
    assert says("/img/a.png", method="PUT") == "path"


def test_redirect_and_fixed_response(srv: Server, unique: Callable[[str], str]) -> None:
    elb = srv.client("elbv2")
    lb_arn, _ = _alb(srv, unique("redirect"))
    listener = elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=8001, DefaultActions=[
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "Path": "/new/#{path}",
                                                 "StatusCode": "HTTP_301"}}])["Listeners"][0]["ListenerArn"]
    elb.create_rule(ListenerArn=listener, Priority=5, Conditions=[{"Field": "path-pattern", "Values": ["/json"]}],
                    Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
                        "StatusCode": "418", "ContentType": "application/json", "MessageBody": '{"tea": true}'}}])
    address = listener_address(srv, listener)
    moved = request(address, "/old/page?q=1", headers={"Host": "shop.example.com"})
    assert moved.status == 301
    assert moved.headers["location"] == "https://shop.example.com/new/old/page?q=1"
    tea = request(address, "/json")
    assert tea.status == 418 and tea.json() == {"tea": True}
    assert tea.headers["content-type"].startswith("application/json")


def test_forwarding_adds_the_alb_headers_and_health_is_probed(
        srv: Server, unique: Callable[[str], str], stand_ins: Callable[[str], StandIn]) -> None:
    elb = srv.client("elbv2")
    lb_arn, vpc = _alb(srv, unique("fwd"))
    group = _group(srv, unique("fwd"), vpc)
    listener = elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=8002, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": group}])["Listeners"][0]["ListenerArn"]
    address = listener_address(srv, listener)
    # No target registered: the ALB answers 503 itself.
    empty = request(address)
    assert empty.status == 503 and empty.headers.get("server") == "awselb/2.0"

    target = stand_ins("one")
    elb.register_targets(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": target.port}])
    key = f"127.0.0.1:{target.port}"
    wait_for(lambda: _states(srv, group).get(key) == "healthy", message="the target passes real health checks")
    listed = wait_for(lambda: [t for t in dataplane(srv)["targets"] if t["targetGroupArn"] == group],
                      message="target listed")
    assert listed[0]["address"] == key and "taskArn" not in listed[0]

    answer = request(address, "/path?x=1", headers={"X-Forwarded-For": "203.0.113.9"})
    assert answer.status == 200
    seen = answer.json()
    assert seen["name"] == "one" and seen["path"] == "/path?x=1"
    headers = seen["headers"]
    assert headers["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-port"] == "8002"
    assert headers["x-amzn-trace-id"].startswith("Root=1-")

    # The health path starts failing: real checks make the target unhealthy; as the only target it still gets
    # requests (fail open).
    target.healthy = False
    wait_for(lambda: _states(srv, group).get(key) == "unhealthy", message="the target fails real health checks")
    assert request(address).json()["name"] == "one"
    target.healthy = True
    wait_for(lambda: _states(srv, group).get(key) == "healthy", message="healthy again")


def test_weights_split_requests(srv: Server, unique: Callable[[str], str],
                                stand_ins: Callable[[str], StandIn]) -> None:
    elb = srv.client("elbv2")
    lb_arn, vpc = _alb(srv, unique("weights"))
    light, heavy = _group(srv, unique("light"), vpc), _group(srv, unique("heavy"), vpc)
    for group, name in ((light, "light"), (heavy, "heavy")):
        elb.register_targets(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": stand_ins(name).port}])
    listener = elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=8003, DefaultActions=[
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": light, "Weight": 1}, {"TargetGroupArn": heavy, "Weight": 3}]}}])["Listeners"][0]
    address = listener_address(srv, listener["ListenerArn"])
    for group in (light, heavy):
        wait_for(lambda g=group: set(_states(srv, g).values()) == {"healthy"}, message="healthy")
    counts = Counter(request(address).json()["name"] for _ in range(1200))
    share = counts["heavy"] / 1200
    assert abs(share - 0.75) < 0.06, counts  # 1:3, within about 5 standard deviations


def test_deregistered_target_drains(srv: Server, unique: Callable[[str], str],
                                    stand_ins: Callable[[str], StandIn]) -> None:
    elb = srv.client("elbv2")
    lb_arn, vpc = _alb(srv, unique("drain"))
    group = _group(srv, unique("drain"), vpc)
    leaving, staying = stand_ins("leaving"), stand_ins("staying")
    leaving.slow = 1.0
    elb.register_targets(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": leaving.port},
                                                       {"Id": "127.0.0.1", "Port": staying.port}])
    listener = elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=8004, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": group}])["Listeners"][0]["ListenerArn"]
    address = listener_address(srv, listener)
    wait_for(lambda: list(_states(srv, group).values()) == ["healthy", "healthy"], message="both healthy")
    # Slow requests in flight on both targets, then the leaving one is deregistered.
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(request(address, "/slow"))) for _ in range(4)]
    for thread in threads:
        thread.start()
    wait_for(lambda: leaving.hits >= 1, message="a slow request reached the leaving target")
    elb.deregister_targets(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": leaving.port}])
    wait_for(lambda: _states(srv, group).get(f"127.0.0.1:{leaving.port}") in ("draining", None), message="draining")
    hits = leaving.hits
    after = Counter(json.loads(request(address).body)["name"] for _ in range(20))
    for thread in threads:
        thread.join(15)
    assert after == {"staying": 20}  # no new request reaches a draining target
    assert leaving.hits == hits
    assert len(results) == 4 and all(r.status == 200 for r in results)  # in-flight requests finished


def test_group_stickiness_pins_a_client(srv: Server, unique: Callable[[str], str],
                                        stand_ins: Callable[[str], StandIn]) -> None:
    elb = srv.client("elbv2")
    lb_arn, vpc = _alb(srv, unique("sticky"))
    first, second = _group(srv, unique("sticky-a"), vpc), _group(srv, unique("sticky-b"), vpc)
    for group, name in ((first, "a"), (second, "b")):
        elb.register_targets(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": stand_ins(name).port}])
    listener = elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=8005, DefaultActions=[
        {"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": first, "Weight": 1}, {"TargetGroupArn": second, "Weight": 1}],
            "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 600}}}])["Listeners"][0]
    address = listener_address(srv, listener["ListenerArn"])
    for group in (first, second):
        wait_for(lambda g=group: set(_states(srv, g).values()) == {"healthy"}, message="healthy")
    answer = request(address)
    cookies = {c.split("=", 1)[0]: c for c in answer.all("set-cookie")}
    assert set(cookies) == {"AWSALBTG", "AWSALBTGCORS"}
    assert "SameSite=None; Secure" in cookies["AWSALBTGCORS"] and "Path=/" in cookies["AWSALBTG"]
    pinned = answer.json()["name"]
    value = cookies["AWSALBTG"].split(";", 1)[0]
    names = {request(address, headers={"Cookie": value}).json()["name"] for _ in range(30)}
    assert names == {pinned}
    # Without the cookie both groups answer.
    assert {request(address).json()["name"] for _ in range(60)} == {"a", "b"}


def test_network_load_balancer_forwards_tcp(srv: Server, unique: Callable[[str], str],
                                            stand_ins: Callable[[str], StandIn]) -> None:
    elb = srv.client("elbv2")
    vpc, subnets = _network(srv)
    lb_arn = elb.create_load_balancer(Name=unique("nlb"), Subnets=subnets, Type="network")[
        "LoadBalancers"][0]["LoadBalancerArn"]
    groups = []
    for name in ("tcp-a", "tcp-b"):
        group = elb.create_target_group(Name=unique(name)[:32], Protocol="TCP", Port=80, VpcId=vpc,
                                        TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        elb.register_targets(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": stand_ins(name).port}])
        groups.append(group)
    listener = elb.create_listener(LoadBalancerArn=lb_arn, Protocol="TCP", Port=9000, DefaultActions=[
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": groups[0], "Weight": 100}, {"TargetGroupArn": groups[1], "Weight": 0}]}}])[
        "Listeners"][0]["ListenerArn"]
    address = listener_address(srv, listener)
    assert {request(address).json()["name"] for _ in range(10)} == {"tcp-a"}
    # The weights move (as ECS moves an NLB listener's): new connections follow.
    elb.modify_listener(ListenerArn=listener, DefaultActions=[
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": groups[0], "Weight": 0}, {"TargetGroupArn": groups[1], "Weight": 100}]}}])
    assert {request(address).json()["name"] for _ in range(10)} == {"tcp-b"}


def test_an_https_listener_ends_tls_with_the_data_directory_certificate(
        srv: Server, unique: Callable[[str], str], stand_ins: Callable[[str], StandIn]) -> None:
    elb = srv.client("elbv2")
    lb_arn, vpc = _alb(srv, unique("tls"))
    group = _group(srv, unique("tls"), vpc)
    target = stand_ins("behind-tls")
    elb.register_targets(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": target.port}])
    certificate = "arn:aws:acm:us-east-1:000000000000:certificate/12345678-1234-1234-1234-123456789012"
    listener = elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTPS", Port=443,
                                   Certificates=[{"CertificateArn": certificate}],
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])["Listeners"][0]
    host, port = listener_address(srv, listener["ListenerArn"])
    assert port >= 1024
    wait_for(lambda: _states(srv, group).get(f"127.0.0.1:{target.port}") == "healthy", message="healthy")
    dns = elb.describe_load_balancers(LoadBalancerArns=[lb_arn])["LoadBalancers"][0]["DNSName"]
    cafile = srv.data_dir / "tls" / "cert.pem"
    context = ssl.create_default_context(cafile=str(cafile))
    connection = http.client.HTTPSConnection(host, port, context=context, timeout=10)
    connection.sock = context.wrap_socket(socket.create_connection((host, port), timeout=10), server_hostname=dns)
    connection.request("GET", "/secure", headers={"Host": dns})
    response = connection.getresponse()
    seen = json.loads(response.read())
    connection.close()
    assert response.status == 200 and seen["name"] == "behind-tls"
    assert seen["headers"]["x-forwarded-proto"] == "https" and seen["headers"]["x-forwarded-port"] == "443"
    if shutil.which("curl"):  # as a user would: the DNS name, the certificate trusted
        done = subprocess.run(["curl", "-s", "--max-time", "10", "--cacert", str(cafile), f"https://{dns}:{port}/"],
                              capture_output=True, timeout=20, check=False)
        assert json.loads(done.stdout)["name"] == "behind-tls"
