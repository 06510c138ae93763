"""``turnout doctor``: checks a service's ECS blue/green setup before a deployment finds the problem.

``turnout doctor --cluster C --service S`` reads the service (DescribeServices); with ``--role-arn`` and
``--listener-rule`` (production first, then test) it checks a service not created yet. It prints a checklist
(:mod:`turnout.cli.doctor_checks`) and exits 0 only when every check passes, 1 otherwise; ``--json`` prints the
same as one JSON document.

Credentials come from the standard AWS chain (environment, shared files, profiles: a botocore session); with
``--endpoint-url`` and no credentials configured it signs with ``test``/``test`` (Turnout's default root user).
Only these calls are made, all read-only, plus the IAM policy simulator: sts:GetCallerIdentity, ecs:
DescribeServices, iam:GetRole, iam:SimulatePrincipalPolicy, elasticloadbalancing: DescribeRules,
DescribeListeners, DescribeTargetGroups, DescribeTags. It is safe against a real AWS account.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, TextIO

from ..deploy import needs as needs_of
from .doctor_checks import Facts, Result, run_checks

READ_CALLS = ("sts:GetCallerIdentity", "ecs:DescribeServices", "iam:GetRole", "iam:SimulatePrincipalPolicy",
              "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeListeners",
              "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTags")


class DoctorError(Exception):
    """The setup could not be read (no such service, an unreachable endpoint...)."""


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``doctor`` to the ``turnout`` command's subcommands."""
    doctor: argparse.ArgumentParser = commands.add_parser(
        "doctor", help="check an ECS service's blue/green setup before a deployment does",
        description="Check an ECS service's blue/green setup: trust, permissions on the exact ELB resources, "
        "PassRole, load-balancer topology and hook roles. Makes only read-only calls and the IAM policy simulator.",
    )
    doctor.add_argument("--cluster", required=True, help="the service's cluster (name or ARN)")
    doctor.add_argument("--service", required=True, help="the service (name or ARN); with --role-arn, the name "
                        "the service will be created with")
    doctor.add_argument("--endpoint-url", help="a Turnout endpoint (default: AWS, through the standard chain)")
    doctor.add_argument("--region", help="the region (default: the chain's, else us-east-1)")
    doctor.add_argument("--role-arn", help="check before CreateService: the infrastructure role to pass")
    doctor.add_argument("--listener-rule", action="append", default=[], metavar="ARN",
                        help="with --role-arn: the production listener rule (or listener), then the test one")
    doctor.add_argument("--json", action="store_true", help="print the checklist as JSON")
    doctor.set_defaults(log_level="warning")
    return doctor


class Clients:
    """botocore clients over one session: the standard credential chain, else test/test at an endpoint."""

    def __init__(self, endpoint_url: str | None, region: str | None) -> None:
        import botocore.session
        from botocore.config import Config

        session = botocore.session.Session()
        self.region = region or session.get_config_variable("region") or "us-east-1"
        extra: dict[str, Any] = {}
        if endpoint_url and session.get_credentials() is None:
            extra = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
        config = Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=60)
        self._session, self._endpoint, self._config, self._extra = session, endpoint_url, config, extra
        self._clients: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._clients:
            self._clients[name] = self._session.create_client(
                name, region_name=self.region, endpoint_url=self._endpoint, config=self._config, **self._extra)
        return self._clients[name]


def _service_arn(region: str, account: str, cluster: str, service: str) -> str:
    if service.startswith("arn:"):
        return service
    return f"arn:aws:ecs:{region}:{account}:service/{cluster.rsplit('/', 1)[-1]}/{service}"


def gather(clients: Any, args: argparse.Namespace) -> Facts:
    """Read everything the checks judge."""
    from botocore.exceptions import ClientError

    identity = clients.sts.get_caller_identity()
    account, caller = str(identity["Account"]), str(identity["Arn"])
    region = clients.region
    if args.role_arn:
        if not args.listener_rule:
            raise DoctorError("--role-arn needs --listener-rule (the production rule, then the test rule)")
        elb = clients.elbv2
        rules = args.listener_rule
        production = _describe_rules(elb, rules[:1])
        forward = sorted(_weights(production[0]["Actions"]).items(), key=lambda kv: -kv[1]) if production else []
        if len(forward) < 2:
            raise DoctorError(f"the production rule {rules[0]} must forward to two target groups (the primary with "
                              "weight 100, the alternate with weight 0)")
        advanced = {"alternateTargetGroupArn": forward[1][0], "productionListenerRule": rules[0],
                    "roleArn": args.role_arn}
        if len(rules) > 1:
            advanced["testListenerRule"] = rules[1]
        config: dict[str, Any] = {"loadBalancers": [{"targetGroupArn": forward[0][0],
                                                     "advancedConfiguration": advanced}]}
        service_arn = _service_arn(region, account, args.cluster, args.service)
        awsvpc: bool | None = None
    else:
        found = clients.ecs.describe_services(cluster=args.cluster, services=[args.service])
        live = [s for s in found.get("services") or [] if s.get("status") != "INACTIVE"]
        if not live:
            raise DoctorError(f"no service {args.service} in cluster {args.cluster} (DescribeServices: "
                              f"{(found.get('failures') or [{}])[0].get('reason', 'INACTIVE')})")
        config = live[0]
        service_arn = str(config["serviceArn"])
        awsvpc = bool((config.get("networkConfiguration") or {}).get("awsvpcConfiguration"))
    setup = needs_of.setup_of(account, region, service_arn, config)
    if not setup.pairs:
        raise DoctorError("the service has no load balancer with advancedConfiguration (blue/green): nothing to check")
    facts = Facts(setup, caller, awsvpc)
    for role in setup.roles:
        try:
            facts.trust[role] = clients.iam.get_role(RoleName=role.rsplit("/", 1)[-1])["Role"][
                "AssumeRolePolicyDocument"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NoSuchEntity":
                raise
            facts.trust[role] = None
    _read_elb(clients.elbv2, facts)
    return facts


def _weights(actions: list[dict[str, Any]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for action in actions:
        if action.get("Type") != "forward":
            continue
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        if groups:
            found.update({g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups})
        elif action.get("TargetGroupArn"):
            found[action["TargetGroupArn"]] = 1
    return found


def _describe_rules(elb: Any, arns: list[str]) -> list[dict[str, Any]]:
    from botocore.exceptions import ClientError

    rules = [a for a in arns if ":listener-rule/" in a]
    if not rules:
        return []
    try:
        return list(elb.describe_rules(RuleArns=rules)["Rules"])
    except ClientError as exc:
        raise DoctorError(f"DescribeRules: {exc.response['Error']['Message']}") from None


def _read_elb(elb: Any, facts: Facts) -> None:
    from ..deploy.traffic import listener_of

    named = [n for p in facts.setup.pairs for n in (p.production, p.test) if n]
    for rule in _describe_rules(elb, named):
        facts.rules[rule["RuleArn"]] = rule
    listeners = list(dict.fromkeys(listener_of(n) if ":listener-rule/" in n else n for n in named))
    for arn in listeners:
        for listener in elb.describe_listeners(ListenerArns=[arn])["Listeners"]:
            facts.listeners[listener["ListenerArn"]] = listener
    groups = list(dict.fromkeys(g for p in facts.setup.pairs for g in (p.primary, p.alternate)))
    for group in elb.describe_target_groups(TargetGroupArns=groups)["TargetGroups"]:
        facts.groups[group["TargetGroupArn"]] = group
    lbs = {listener["LoadBalancerArn"] for listener in facts.listeners.values()}
    for lb in sorted(lbs):
        for listener in elb.describe_listeners(LoadBalancerArn=lb)["Listeners"]:
            facts.listeners.setdefault(listener["ListenerArn"], listener)
            facts.lb_rules += elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    tagged = list(dict.fromkeys([*facts.rules, *facts.groups, *listeners]))
    for start in range(0, len(tagged), 20):  # DescribeTags takes at most 20 ARNs
        for description in elb.describe_tags(ResourceArns=tagged[start:start + 20])["TagDescriptions"]:
            facts.tags[description["ResourceArn"]] = {t["Key"]: t.get("Value", "") for t in description["Tags"]}


def render(results: list[Result], out: TextIO) -> None:
    from ..policy.fixes import render as render_json

    for result in results:
        out.write(f"[{'ok' if result.ok else 'FAIL'}] {result.group}: {result.title}\n")
        if not result.ok and result.detail:
            out.write(f"       {result.detail}\n")
        if not result.ok and result.fix is not None:
            out.write(f"       fix: add to {result.fix_for}:\n")
            for line in render_json(result.fix).splitlines():
                out.write(f"         {line}\n")
    failed = sum(1 for r in results if not r.ok)
    out.write(f"\n{len(results) - failed} passed, {failed} failed\n")


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    out, err = out or sys.stdout, err or sys.stderr
    try:
        clients = Clients(args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL"), args.region)
        facts = gather(clients, args)
        results = run_checks(clients.iam, facts)
    except DoctorError as exc:
        err.write(f"turnout doctor: {exc}\n")
        return 1
    except ClientError as exc:
        error = exc.response.get("Error", {})
        err.write(f"turnout doctor: {exc.operation_name}: {error.get('Code')}: {error.get('Message')}\n")
        return 1
    except BotoCoreError as exc:
        err.write(f"turnout doctor: {exc}\n")
        return 1
    ok = all(r.ok for r in results)
    if args.json:
        json.dump({"ok": ok, "service": facts.setup.service_arn, "checks": [r.as_json() for r in results]}, out,
                  indent=2)
        out.write("\n")
    else:
        render(results, out)
    return 0 if ok else 1
