"""Fixtures shared by the end-to-end tests: the ELBv2 tests' client and network, and the ECS deployment tests' Lambda
hook endpoint and fast server. A module may override any of them, e.g. with a clock of its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import LambdaEndpoint, Server


@pytest.fixture(scope="module")
def elb(server: Server) -> Any:
    return server.client("elbv2")


@pytest.fixture(scope="module")
def network(server: Server) -> dict[str, Any]:
    """The default VPC and its default subnets, sorted by availability zone."""
    ec2 = server.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = sorted(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"],
                     key=lambda s: s["AvailabilityZone"])
    return {"vpc": vpc, "subnets": subnets, "ids": [s["SubnetId"] for s in subnets]}


@pytest.fixture
def cleanup(elb: Any) -> Iterator[list[tuple[str, str]]]:
    """(kind, arn) a test creates: deleted afterwards, load balancers first."""
    made: list[tuple[str, str]] = []
    yield made
    for kind, arn in sorted(made, key=lambda item: item[0] != "lb"):
        try:
            if kind == "lb":
                elb.delete_load_balancer(LoadBalancerArn=arn)
            else:
                elb.delete_target_group(TargetGroupArn=arn)
        except ClientError:
            pass


@pytest.fixture(scope="module")
def endpoint() -> Iterator[LambdaEndpoint]:
    """A local endpoint standing in for the Lambda function `hook`, one per test module."""
    found = LambdaEndpoint()
    yield found
    found.http.shutdown()


@pytest.fixture(scope="module")
def fast(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         endpoint: LambdaEndpoint) -> Iterator[Server]:
    """A server of the test module's own (its data directory named after the module), its clock 600 times faster,
    its Lambda function `hook` served by `endpoint`."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    srv = Server(tmp_path_factory.mktemp(name) / "data",
                 ["--time-scale", "600", "--lambda", f"hook={endpoint.url}"]).start()
    yield srv
    srv.stop()
