"""The ECS blue/green load balancer setup with the AWS CLI against a real server: the default VPC's subnets, an
Application Load Balancer, blue and green ip target groups, a production listener and rule, a test listener and a
header rule (shorthand and JSON arguments), the weighted traffic shift read back, AWS's errors as the CLI prints
them, the CLI's own pagination, and the deletion order."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import CLI_CLIENT_ERROR, Server, aws_cli, cli_ok

CLIENT_ERROR = CLI_CLIENT_ERROR


def aws(server: Server, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return aws_cli(server, cwd, *args)


ok = cli_ok


def failed(result: subprocess.CompletedProcess[str], operation: str, code: str, message: str) -> None:
    assert result.returncode == CLIENT_ERROR, result.stdout
    assert f"An error occurred ({code}) when calling the {operation} operation: {message}" in result.stderr


def weighted(blue: str, green: str, blue_weight: int, green_weight: int) -> list[dict[str, Any]]:
    return [{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": blue, "Weight": blue_weight},
                         {"TargetGroupArn": green, "Weight": green_weight}],
        "TargetGroupStickinessConfig": {"Enabled": False}}}]


def test_blue_green_setup_with_the_cli(server: Server, tmp_path: Path, unique: Callable[[str], str]) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return aws(server, tmp_path, *args)

    vpc = ok(cli("ec2", "describe-vpcs", "--filters", "Name=is-default,Values=true"))["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ok(cli("ec2", "describe-subnets", "--filters",
                                             f"Name=vpc-id,Values={vpc}"))["Subnets"]]
    name = unique("cli-alb")
    lb = ok(cli("elbv2", "create-load-balancer", "--name", name, "--subnets", *subnets[:3],
                "--type", "application"))["LoadBalancers"][0]["LoadBalancerArn"]
    groups = {}
    for color in ("blue", "green"):
        groups[color] = ok(cli("elbv2", "create-target-group", "--name", unique(color), "--protocol", "HTTP",
                               "--port", "80", "--vpc-id", vpc, "--target-type", "ip", "--health-check-path", "/",
                               ))["TargetGroups"][0]["TargetGroupArn"]
    blue, green = groups["blue"], groups["green"]
    production = ok(cli("elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "HTTP", "--port", "80",
                        "--default-actions", f"Type=forward,TargetGroupArn={blue}"))["Listeners"][0]
    assert production["DefaultActions"] == [{"Type": "forward", "TargetGroupArn": blue, "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": blue, "Weight": 1}], "TargetGroupStickinessConfig": {"Enabled": False}}}]
    rule = ok(cli("elbv2", "create-rule", "--listener-arn", production["ListenerArn"], "--priority", "1",
                  "--conditions", "Field=path-pattern,Values=/*", "--actions",
                  f"Type=forward,TargetGroupArn={blue}"))["Rules"][0]
    assert rule["Priority"] == "1" and f":listener-rule/app/{name}/" in rule["RuleArn"]
    test = ok(cli("elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "HTTP", "--port", "8080",
                  "--default-actions", f"Type=forward,TargetGroupArn={blue}"))["Listeners"][0]["ListenerArn"]
    header = [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Environment", "Values": ["test"]}}]
    test_rule = ok(cli("elbv2", "create-rule", "--listener-arn", test, "--priority", "1", "--conditions",
                       json.dumps(header), "--actions", f"Type=forward,TargetGroupArn={green}"))["Rules"][0]
    assert test_rule["Conditions"] == header

    # The traffic shift ECS makes, read back exactly.
    for weights in ((90, 10), (0, 100)):
        actions = weighted(blue, green, *weights)
        ok(cli("elbv2", "modify-rule", "--rule-arn", rule["RuleArn"], "--actions", json.dumps(actions)))
        described = ok(cli("elbv2", "describe-rules", "--rule-arns", rule["RuleArn"]))["Rules"][0]
        assert described["Actions"] == actions
    listed = ok(cli("elbv2", "describe-target-groups", "--load-balancer-arn", lb))["TargetGroups"]
    assert sorted(g["TargetGroupArn"] for g in listed) == sorted([blue, green])
    assert all(g["LoadBalancerArns"] == [lb] for g in listed)
    # --page-size is the API's PageSize (one page, with NextMarker); --max-items pages with the CLI's own token.
    page = ok(cli("elbv2", "describe-rules", "--listener-arn", production["ListenerArn"], "--page-size", "1"))
    assert [r["Priority"] for r in page["Rules"]] == ["1"] and page["NextMarker"]
    rest = ok(cli("elbv2", "describe-rules", "--listener-arn", production["ListenerArn"], "--marker",
                  page["NextMarker"]))
    assert [r["Priority"] for r in rest["Rules"]] == ["default"] and "NextMarker" not in rest
    rules = {"Rules": page["Rules"] + rest["Rules"]}
    first = ok(cli("elbv2", "describe-listeners", "--load-balancer-arn", lb, "--max-items", "1"))
    second = ok(cli("elbv2", "describe-listeners", "--load-balancer-arn", lb, "--max-items", "1",
                    "--starting-token", first["NextToken"]))
    assert [item["Port"] for item in first["Listeners"] + second["Listeners"]] == [80, 8080]
    assert "NextToken" not in second

    # AWS's errors, as the CLI prints them.
    failed(cli("elbv2", "create-rule", "--listener-arn", test, "--priority", "1", "--conditions",
               "Field=path-pattern,Values=/x", "--actions", f"Type=forward,TargetGroupArn={green}"),
           "CreateRule", "PriorityInUse", "Priority '1' is currently in use")
    default_rule = rules["Rules"][-1]["RuleArn"]
    failed(cli("elbv2", "modify-rule", "--rule-arn", default_rule, "--actions", f"Type=forward,TargetGroupArn={blue}"),
           "ModifyRule", "OperationNotPermitted", f"Default rule '{default_rule}' cannot be modified")
    failed(cli("elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "HTTP", "--port", "80",
               "--default-actions", f"Type=forward,TargetGroupArn={green}"),
           "CreateListener", "DuplicateListener",
           f"A listener already exists on this port for this load balancer '{lb}'")
    failed(cli("elbv2", "modify-rule", "--rule-arn", rule["RuleArn"], "--actions", json.dumps(
        weighted(blue, green, 1000, 0))), "ModifyRule", "ValidationError",
        "The weight for each target group must be between 0 and 999, inclusive")
    failed(cli("elbv2", "delete-target-group", "--target-group-arn", green), "DeleteTargetGroup", "ResourceInUse",
           f"Target group '{green}' is currently in use by a listener or a rule")

    # Deletion order: listeners (with their rules), then the load balancer, then the target groups.
    ok(cli("elbv2", "delete-listener", "--listener-arn", production["ListenerArn"]))
    failed(cli("elbv2", "describe-rules", "--rule-arns", rule["RuleArn"]), "DescribeRules", "RuleNotFound",
           "One or more rules not found")
    ok(cli("elbv2", "delete-load-balancer", "--load-balancer-arn", lb))
    failed(cli("elbv2", "describe-listeners", "--listener-arns", test), "DescribeListeners", "ListenerNotFound",
           "One or more listeners not found")
    for arn in (blue, green):
        ok(cli("elbv2", "delete-target-group", "--target-group-arn", arn))
