"""Calls through an in-process gateway as the root user, and the load balancer the ELB unit tests share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from turnout.core.principal import Principal
from turnout.gateway.gateway import Gateway

ROOT = Principal.root("000000000000")
Call = Callable[..., dict[str, Any]]


def caller(gateway: Gateway) -> Call:
    """``call(operation, **params)``: an ELB (or EC2's DescribeSubnets) call that must succeed; its result."""

    def call(op: str, **params: Any) -> dict[str, Any]:
        ctx = gateway.invoke("elbv2" if op != "DescribeSubnets" else "ec2", op, params, ROOT)
        assert ctx.error is None, ctx.error.message
        return ctx.result or {}

    return call


def balancer_with_two_groups(gateway: Gateway, call: Call) -> tuple[str, str, str]:
    """A load balancer in the default VPC's first two subnets and two ip target groups, ``blue`` and ``green``:
    their ARNs."""
    subnets = [s["SubnetId"] for s in call("DescribeSubnets")["Subnets"]][:2]
    vpc = gateway.db.scalar("SELECT vpc_id FROM ec2_subnets WHERE subnet_id = ?", (subnets[0],))
    lb = call("CreateLoadBalancer", Name="lb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    blue, green = (call("CreateTargetGroup", Name=n, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")[
        "TargetGroups"][0]["TargetGroupArn"] for n in ("blue", "green"))
    return lb, blue, green
