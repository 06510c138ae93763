"""The request context AWS evaluates: ``checks_for`` for every operation of the six models, and the cases that
matter most checked value by value."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.model import Shape

from turnout.authz import context as authz_context
from turnout.authz import resources_cloudtrail, resources_ecs, resources_iam, resources_s3, resources_sts
from turnout.authz.checks import Check
from turnout.authz.context import build_plan, checks_for, name_resolvers, resource_tag_lookups, rules_for
from turnout.core.clock import ManualClock
from turnout.core.principal import Principal
from turnout.gateway.gateway import Gateway
from turnout.reference.authorization import Action, ResourceType, catalog
from turnout.services.iam.store.views import IdentityViews
from turnout.services.registry import register_all
from turnout.store.db import Database
from turnout.wire.models import SERVICES

ACCOUNT = "123456789012"
OTHER = "210987654321"
REGION = "eu-west-1"
ALICE = Principal(ACCOUNT, "IAMUser", f"arn:aws:iam::{ACCOUNT}:user/staff/alice", "AIDAALICE", "alice")
ELB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:"
RULE_ARN = ELB + "listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
LISTENER_ARN = ELB + "listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2"
TG_ARN = ELB + "targetgroup/blue/73e2d6bc24d8a067"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": "sts:AssumeRole"}]})
UNCATALOGUED = {
    "iam": set(resources_iam.UNCATALOGUED),
    "sts": set(resources_sts.UNCATALOGUED),
    "ecs": set(resources_ecs.UNCATALOGUED),
    "elbv2": set(),
    "cloudtrail": set(),
    "s3": set(resources_s3.UNCATALOGUED),
    "ec2": {
        op for op in SERVICES["ec2"].model.operation_names if catalog().action("ec2", op) is None
    },
}
# The EC2 operations Turnout serves (issue 3): each must name its resources.
EC2_SERVED = {
    "DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups", "DescribeAvailabilityZones",
    "DescribeAccountAttributes", "CreateVpc", "CreateSubnet", "CreateSecurityGroup", "DeleteSecurityGroup",
    "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "CreateTags", "DeleteTags", "DescribeTags",
    "DeleteVpc", "DeleteSubnet", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
    "DescribeSecurityGroupRules", "ModifySecurityGroupRules", "DescribeVpcAttribute", "ModifyVpcAttribute",
    "DescribeRouteTables", "DescribeNetworkInterfaces", "DescribePrefixLists",
}


# -- fixtures ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = Database(tmp_path_factory.mktemp("authz") / "turnout.db")
    yield database
    database.close()


@pytest.fixture
def fresh_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "turnout.db")
    yield database
    database.close()


def make_ctx(db: Database, service: str, operation: str, params: dict[str, Any],
             principal: Principal | None = ALICE, region: str = REGION) -> Any:
    spec = SERVICES[service]
    model = spec.operation(operation)
    assert model is not None, operation
    return SimpleNamespace(
        gateway=SimpleNamespace(db=db, identities=IdentityViews(db)), principal=principal,
        account_id=principal.account_id if principal else "",
        region=region, params=params, service=spec, operation=model, operation_name=operation,
    )


def run(db: Database, service: str, operation: str, params: dict[str, Any], **kw: Any) -> list[Check]:
    return checks_for(make_ctx(db, service, operation, params, **kw))


def add_role(db: Database, name: str, path: str = "/", account: str = ACCOUNT, trust: str = TRUST,
             boundary: str | None = None, tags: dict[str, str] | None = None) -> str:
    arn = f"arn:aws:iam::{account}:role{path}{name}"
    db.execute(
        "INSERT INTO iam_roles (account_id, name_lower, name, role_id, path, arn, trust_policy, max_session_duration,"
        " permissions_boundary, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (account, name.lower(), name, "AROA" + name.upper()[:17], path, arn, trust, 3600, boundary, "2024-01-01"),
    )
    for seq, (key, value) in enumerate((tags or {}).items()):
        db.execute("INSERT INTO iam_tags VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (account, "role", name.lower(), key.lower(), key, value, seq))
    return arn


# -- a parameter generator from botocore shapes ------------------------------------------------------------------

# Resource types a parameter name points at (lower-case, "arn"/"arns"/"id" suffixes stripped), most specific first.
KEYWORDS = (
    ("listenerrule", "listener-rule"), ("rule", "listener-rule"), ("listener", "listener"),
    ("loadbalancer", "loadbalancer/"), ("targetgroup", "targetgroup"), ("truststore", "truststore"),
    ("policysource", "user"), ("permissionsboundary", "policy"), ("policy", "policy"), ("role", "role"),
    ("openidconnectprovider", "oidc-provider"), ("samlprovider", "saml-provider"),
    ("servicedeployment", "service-deployment"), ("servicerevision", "service-revision"), ("cluster", "cluster"),
    ("taskdefinition", "task-definition"), ("capacityprovider", "capacity-provider"),
    ("containerinstance", "container-instance"), ("taskset", "task-set"), ("service", "service"),
    ("task", "task"), ("trail", "trail"), ("eventdatastore", "eventdatastore"), ("channel", "channel"),
    ("dashboard", "dashboard"), ("entity", "delegation-request"),
)
SPECIAL = {
    "DeletionTaskId": "task/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS/0d7d0b9e-11",
    "QueryStatement": "SELECT eventName FROM 0a1b2c3d-eds WHERE eventName = 'x'",
    "TargetPrincipal": OTHER,
    "SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/staff/device",
    "Url": "https://token.example.com/id",
    "AWSServiceName": "ecs.amazonaws.com",
    "Location": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:eventdatastore/eds-1",
    "Type": "EVENT_DATA_STORE",
    "EventDataStoreOwnerAccountId": ACCOUNT,
    "Arn": f"arn:aws:iam::{ACCOUNT}:role/app/r1",
    "GroupId": "sg-0a1b2c3d",
    "VpcId": "vpc-0a1b2c3d",
}


def sample_arn(rtype: ResourceType) -> str:
    values = {p: ("app/sample" if p.endswith("Path") else f"x{p}") for p in rtype.parameters}
    return rtype.build(values, account=ACCOUNT, region=REGION)


class Generator:
    """Parameters for an operation: every member (``full``) or the required ones, with values that mean what the
    member's name says (ARNs of the right resource type, ids with EC2's prefixes...)."""

    def __init__(self, prefix: str, action: Action | None, full: bool) -> None:
        service = catalog().service(prefix)
        assert service is not None
        self.service = service
        self.types = [service.resource_types[t] for t in (action.resource_types if action else ())]
        self.full = full

    def arn_for(self, name: str) -> str:
        low = re.sub(r"(arns?|ids?|list)$", "", name.lower())
        for keyword, type_name in KEYWORDS:
            if keyword in low:
                for rtype in self.types:
                    if rtype.name.startswith(type_name):
                        return sample_arn(rtype)
                for found_name, rtype in self.service.resource_types.items():
                    if found_name.startswith(type_name):
                        return sample_arn(rtype)
        if self.types:
            return sample_arn(self.types[0])
        return f"arn:aws:{self.service.prefix}:{REGION}:{ACCOUNT}:thing/x"

    def string(self, name: str, shape: Shape) -> str:
        if name in SPECIAL:
            return SPECIAL[name]
        if name == "ResourceType" and shape.enum:
            wanted = [t.name for t in self.types if t.name in shape.enum]
            return wanted[0] if wanted else "vpc"
        if shape.enum:
            return str(shape.enum[0])
        if name in ("Path", "NewPath", "PathPrefix"):
            return "/app/"
        low = name.lower()
        if low.endswith(("arn", "arns")) or name in ("ResourceId", "ResourceIdList", "InsightSource"):
            return self.arn_for(name)
        return f"x{name[:1].upper()}{name[1:]}"

    def value(self, shape: Any, name: str, depth: int = 0) -> Any:  # a botocore Shape of any kind
        kind = shape.type_name
        if kind == "structure":
            out: dict[str, Any] = {}
            if depth > 6:
                return out
            for member_name, member in shape.members.items():
                if not self.full and member_name not in shape.required_members:
                    continue
                if member_name in ("Tags", "tags", "TagsList") and member.type_name == "list":
                    out[member_name] = self.tags(member)
                    continue
                out[member_name] = self.value(member, member_name, depth + 1)
            return out
        if kind == "list":
            if name == "Resources":
                return ["vpc-0a1b2c3d", "sg-0a1b2c3d", "subnet-0a1b2c3d"]
            item = self.value(shape.member, name, depth + 1)
            if not self.full:
                return [item]
            return [item, item + "2" if isinstance(item, str) else item]
        if kind == "map":
            return {"k": self.value(shape.value, name, depth + 1)}
        if kind == "string":
            return self.string(name, shape)
        if kind in ("integer", "long"):
            return 3600
        if kind in ("float", "double"):
            return 1.5
        if kind == "boolean":
            return True
        if kind == "timestamp":
            return datetime(2024, 1, 1, tzinfo=UTC)
        if kind == "blob":
            return b"x"
        raise AssertionError(kind)

    @staticmethod
    def tags(shape: Any) -> list[dict[str, str]]:  # a botocore ListShape
        key, value = ("key", "value") if "key" in shape.member.members else ("Key", "Value")
        return [{key: "team", value: "blue"}, {key: "env", value: "prod"}]


def brief_pattern(rtype: ResourceType) -> re.Pattern[str]:
    """The template as a regex: placeholders -> ``[^:]+``, the last one -> ``.+``."""
    parts = re.split(r"(\$\{[A-Za-z0-9]+\})", rtype.arn)
    last = max(i for i, p in enumerate(parts) if p.startswith("${"))
    return re.compile("".join(
        (".+" if i == last else "[^:]+") if p.startswith("${") else re.escape(p) for i, p in enumerate(parts)
    ))


def key_family(key: str) -> str:
    for prefix in ("aws:RequestTag/", "aws:ResourceTag/"):
        if key.startswith(prefix):
            return prefix + "${TagKey}"
    head, slash, _ = key.partition("/")
    return head + "/${TagKey}" if slash and head.endswith(":ResourceTag") else key


# -- every operation -------------------------------------------------------------------------------------------


def sweep(db: Database, service: str, full: bool) -> tuple[list[str], list[str]]:
    """Run ``checks_for`` for every operation; returns (problems, operations falling back to "*" although the
    reference has a required resource type)."""
    spec = SERVICES[service]
    prefix = spec.signing_name
    rules = rules_for(prefix)
    problems: list[str] = []
    fallbacks: list[str] = []
    served = served_operations(db)[service]
    for operation in spec.model.operation_names:
        model = spec.model.operation_model(operation)
        action = catalog().action(prefix, rules.actions.get(operation, operation))
        if action is None and operation not in UNCATALOGUED[service]:
            if operation in served:
                problems.append(f"{operation}: served, but no action in the reference and not declared uncatalogued")
            continue  # not served: the gateway answers NotImplemented before authorization (fails closed)
        gen = Generator(prefix, action, full)
        params = gen.value(model.input_shape, "") if model.input_shape is not None else {}
        checks = run(db, service, operation, params)
        if not checks:
            problems.append(f"{operation}: no check")
            continue
        first = checks[0]
        if action is not None and first.action != action.qualified:
            problems.append(f"{operation}: first check is {first.action}, expected {action.qualified}")
        if action is not None and action.required_types and all(
            c.resource == "*" for c in checks if c.action == first.action
        ):
            fallbacks.append(operation)
        for check in checks:
            problems.extend(f"{operation}: {p}" for p in check_problems(prefix, check, service))
    return problems, fallbacks


_SERVED: dict[str, set[str]] = {}


def served_operations(db: Database) -> dict[str, set[str]]:
    """The operations each service's provider serves (the others answer NotImplemented)."""
    if not _SERVED:
        gateway = Gateway(db=db, clock=ManualClock())
        register_all(gateway)
        for name, provider in gateway.providers.items():
            _SERVED[name] = {op for op in SERVICES[name].model.operation_names if provider.handler(op) is not None}
    return _SERVED


def check_problems(prefix: str, check: Check, service: str) -> list[str]:
    out: list[str] = []
    check_prefix, _, name = check.action.partition(":")
    assert check_prefix == prefix
    action = catalog().action(prefix, name)
    reference = catalog().service(prefix)
    assert reference is not None
    if action is None and name not in UNCATALOGUED[service]:
        out.append(f"{check.action} is not in the reference")
    types = [reference.resource_types[t] for t in action.resource_types] if action is not None else \
        list(reference.resource_types.values())
    allowed = set(action.condition_keys) if action is not None else set()
    if check.resource == "*":
        if check.resource_account is not None:
            out.append(f"{check.action} on * has resource account {check.resource_account}")
    elif prefix == "iam" and name in resources_iam.PATH_LISTS:
        # A path list acts on the path it lists (``arn:aws:iam::<account>:role/`` or ``.../role/<prefix>/``).
        kind = resources_iam.PATH_LISTS[name]
        if re.fullmatch(rf"arn:aws:iam::\d{{12}}:{kind}/(?:[^/]+/)*", check.resource) is None:
            out.append(f"{check.action}: {check.resource} is not a {kind} path")
    else:
        matching = [t for t in types if brief_pattern(t).fullmatch(check.resource)]
        if not matching:
            out.append(f"{check.action}: {check.resource} matches none of {[t.name for t in types]}")
        account = check.resource.split(":")[4]
        expected = None if account in ("", "aws") else account
        if prefix == "s3":  # S3 ARNs name no account: the owner's (the caller's, for a bucket that does not exist)
            expected = ACCOUNT
        if check.resource_account != expected:
            out.append(f"{check.action}: resource account {check.resource_account} for {check.resource}")
        for rtype in matching:
            row = action.row(rtype.name) if action is not None else None
            allowed |= set(row.condition_keys) if row is not None and row.condition_keys else set(rtype.condition_keys)
    for key, value in check.context.items():
        if key_family(key) not in allowed:
            out.append(f"{check.action}: context key {key} is not one the reference lists for it")
        if not (isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))):
            out.append(f"{check.action}: {key} = {value!r} is not a string or a list of strings")
    if check.resource_policy_kind not in ("trust", "resource"):
        out.append(f"{check.action}: resource policy kind {check.resource_policy_kind}")
    return out


# Operations that check "*" although the reference has a required resource type, with only the required members
# of their input: the resource is named by an optional member (AWS then evaluates "*" too, e.g. ecs:ListTasks
# without a container instance).
MINIMAL_FALLBACKS = {
    "iam": set(),
    "sts": set(),
    "elbv2": {"SetRulePriorities"},  # RulePriorities[].RuleArn is optional in the model
    "ecs": {"DeleteAttributes", "PutAttributes", "DescribeCapacityProviders", "DescribeTaskSets",
            "GetTaskProtection", "ListTasks"},
    "cloudtrail": {"CancelQuery", "DescribeQuery", "GetQueryResults", "StartQuery"},
    "s3": set(),
}


@pytest.mark.parametrize("service", ["iam", "sts", "elbv2", "ecs", "cloudtrail", "ec2", "s3"])
@pytest.mark.parametrize("full", [True, False], ids=["all-members", "required-members"])
def test_every_operation(db: Database, service: str, full: bool) -> None:
    problems, fallbacks = sweep(db, service, full)
    assert problems == []
    if service == "ec2":
        print(f"\nec2 ({'all' if full else 'required'} members): {len(fallbacks)} operations check '*' "
              f"although the reference has a required resource type")
        # Without its optional GroupId a security group is named by GroupName (default VPC), which only the EC2
        # provider can resolve (name_resolvers["ec2:security-group"]).
        by_name = {"DeleteSecurityGroup", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
                   "RevokeSecurityGroupIngress"}
        assert EC2_SERVED & set(fallbacks) == (set() if full else by_name)
    elif full:
        assert fallbacks == []
    else:
        assert set(fallbacks) == MINIMAL_FALLBACKS[service]


def test_every_operation_has_a_plan_built_once(db: Database) -> None:
    ctx = make_ctx(db, "iam", "GetRole", {"RoleName": "nobody"})
    checks_for(ctx)
    plan = authz_context._PLANS[("iam", "GetRole")]
    checks_for(ctx)
    assert authz_context._PLANS[("iam", "GetRole")] is plan


# -- the cases the issue names ---------------------------------------------------------------------------------


def test_get_role_with_path(fresh_db: Database) -> None:
    arn = add_role(fresh_db, "App-Role", "/team/a/", boundary=f"arn:aws:iam::{ACCOUNT}:policy/Boundary",
                   tags={"Env": "prod", "team": "blue"})
    [check] = run(fresh_db, "iam", "GetRole", {"RoleName": "app-role"})
    assert check == Check(
        action="iam:GetRole",
        resource=arn,
        resource_account=ACCOUNT,
        context={
            "aws:ResourceTag/Env": "prod", "aws:ResourceTag/team": "blue",
            "iam:ResourceTag/Env": "prod", "iam:ResourceTag/team": "blue",
            "iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/Boundary",
        },
    )
    assert arn == f"arn:aws:iam::{ACCOUNT}:role/team/a/App-Role"
    # A role that does not exist: the path-less ARN, as AWS reports it.
    [missing] = run(fresh_db, "iam", "GetRole", {"RoleName": "Ghost"})
    assert (missing.resource, missing.context) == (f"arn:aws:iam::{ACCOUNT}:role/Ghost", {})


def test_modify_rule_acts_on_the_rule_arn(fresh_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str, str]] = []

    def elb_tags(db: Database, account: str, region: str, arn: str) -> dict[str, str]:
        seen.append((account, region, arn))
        return {"stage": "blue"}

    monkeypatch.setitem(resource_tag_lookups, "elasticloadbalancing", elb_tags)
    [check] = run(fresh_db, "elbv2", "ModifyRule", {"RuleArn": RULE_ARN, "Actions": []})
    assert check.action == "elasticloadbalancing:ModifyRule"
    assert check.resource == RULE_ARN and check.resource_account == ACCOUNT
    assert check.context == {"aws:ResourceTag/stage": "blue", "elasticloadbalancing:ResourceTag/stage": "blue"}
    assert seen == [(ACCOUNT, REGION, RULE_ARN)]
    [listener] = run(fresh_db, "elbv2", "ModifyListener", {"ListenerArn": LISTENER_ARN, "Protocol": "HTTPS"})
    assert listener.resource == LISTENER_ARN
    assert listener.context["elasticloadbalancing:ListenerProtocol"] == "HTTPS"
    [register] = run(fresh_db, "elbv2", "RegisterTargets", {"TargetGroupArn": TG_ARN, "Targets": [{"Id": "i-1"}]})
    assert register.resource == TG_ARN


def test_create_service_with_tags(fresh_db: Database) -> None:
    params = {
        "cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod",
        "serviceName": "web",
        "taskDefinition": "web:3",
        "enableExecuteCommand": False,
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE"}],
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "DISABLED"}},
        "tags": [{"key": "team", "value": "blue"}, {"key": "env", "value": "prod"}],
    }
    create, tag = run(fresh_db, "ecs", "CreateService", params)
    ecs = f"arn:aws:ecs:{REGION}:{ACCOUNT}:"
    assert create == Check(
        action="ecs:CreateService",
        resource=ecs + "service/prod/web",
        resource_account=ACCOUNT,
        context={
            "ecs:cluster": ecs + "cluster/prod",
            "aws:RequestTag/team": "blue", "aws:RequestTag/env": "prod", "aws:TagKeys": ["team", "env"],
            "ecs:capacity-provider": [ecs + "capacity-provider/FARGATE"],
            "ecs:task-definition": ecs + "task-definition/web:3",
            "ecs:enable-execute-command": "false",
            "ecs:auto-assign-public-ip": "false",
            "ecs:subnet": ["subnet-1"],
        },
    )
    # Tags on a create are authorized again as ecs:TagResource on the new service.
    assert tag == Check(
        action="ecs:TagResource",
        resource=ecs + "service/prod/web",
        resource_account=ACCOUNT,
        context={"ecs:CreateAction": "CreateService", "aws:RequestTag/team": "blue", "aws:RequestTag/env": "prod",
                 "aws:TagKeys": ["team", "env"]},
    )
    # No cluster: the default one. No tags: no TagResource check.
    [plain] = run(fresh_db, "ecs", "CreateService", {"serviceName": "api"})
    assert plain.resource == ecs + "service/default/api"
    assert plain.context == {"ecs:cluster": ecs + "cluster/default"}


def test_attach_role_policy(fresh_db: Database) -> None:
    arn = add_role(fresh_db, "Deployer", "/ci/", boundary=f"arn:aws:iam::{ACCOUNT}:policy/Limit")
    policy = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    [check] = run(fresh_db, "iam", "AttachRolePolicy", {"RoleName": "Deployer", "PolicyArn": policy})
    assert check == Check(
        action="iam:AttachRolePolicy", resource=arn, resource_account=ACCOUNT,
        context={"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/Limit", "iam:PolicyARN": policy},
    )


def test_assume_role(fresh_db: Database) -> None:
    role = add_role(fresh_db, "CrossAccount", "/partners/", account=OTHER, tags={"owner": "ops"})
    params = {
        "RoleArn": f"arn:aws:iam::{OTHER}:role/partners/CrossAccount",
        "RoleSessionName": "build-42",
        "ExternalId": "ext-123",
        "SourceIdentity": "alice",
        "Tags": [{"Key": "project", "Value": "turnout"}],
        "TransitiveTagKeys": ["project"],
    }
    assume, tag_session, source_identity = run(fresh_db, "sts", "AssumeRole", params)
    trust = {"resource": role, "resource_account": OTHER, "resource_policy": TRUST, "resource_policy_id": role,
             "resource_policy_kind": "trust"}
    role_tags = {"aws:ResourceTag/owner": "ops", "iam:ResourceTag/owner": "ops"}
    assert assume == Check(action="sts:AssumeRole", context={
        **role_tags,
        "aws:RequestTag/project": "turnout", "aws:TagKeys": ["project"],
        "sts:ExternalId": "ext-123", "sts:RoleSessionName": "build-42", "sts:SourceIdentity": "alice",
        "sts:TransitiveTagKeys": ["project"],
    }, **trust)
    assert tag_session == Check(action="sts:TagSession", context={
        **role_tags, "aws:RequestTag/project": "turnout", "aws:TagKeys": ["project"],
        "sts:TransitiveTagKeys": ["project"],
    }, **trust)
    assert source_identity == Check(action="sts:SetSourceIdentity", context={
        **role_tags, "sts:SourceIdentity": "alice"}, **trust)
    # Without tags or a source identity, AssumeRole alone; a role that does not exist has no trust policy.
    [alone] = run(fresh_db, "sts", "AssumeRole", {"RoleArn": f"arn:aws:iam::{OTHER}:role/Nope",
                                                   "RoleSessionName": "s"})
    assert alone.resource == f"arn:aws:iam::{OTHER}:role/Nope"
    assert (alone.resource_policy, alone.resource_policy_id, alone.resource_policy_kind) == (None, None, "trust")
    assert alone.context == {"sts:RoleSessionName": "s"}


def test_tag_role(fresh_db: Database) -> None:
    arn = add_role(fresh_db, "Tagged", tags={"env": "dev", "cost": "42"})
    [check] = run(fresh_db, "iam", "TagRole", {"RoleName": "Tagged", "Tags": [{"Key": "env", "Value": "prod"}]})
    assert check == Check(action="iam:TagRole", resource=arn, resource_account=ACCOUNT, context={
        "aws:ResourceTag/env": "dev", "aws:ResourceTag/cost": "42",
        "iam:ResourceTag/env": "dev", "iam:ResourceTag/cost": "42",
        "aws:RequestTag/env": "prod", "aws:TagKeys": ["env"],
    })
    [untag] = run(fresh_db, "iam", "UntagRole", {"RoleName": "Tagged", "TagKeys": ["cost"]})
    assert untag.context["aws:TagKeys"] == ["cost"] and "aws:RequestTag/cost" not in untag.context


# -- more behaviour -----------------------------------------------------------------------------------------------


def test_several_resources_give_one_check_each(fresh_db: Database) -> None:
    checks = run(fresh_db, "elbv2", "RemoveTags", {"ResourceArns": [TG_ARN, LISTENER_ARN], "TagKeys": ["a"]})
    assert [(c.action, c.resource, c.context) for c in checks] == [
        ("elasticloadbalancing:RemoveTags", TG_ARN, {"aws:TagKeys": ["a"]}),
        ("elasticloadbalancing:RemoveTags", LISTENER_ARN, {"aws:TagKeys": ["a"]}),
    ]
    ecs = f"arn:aws:ecs:{REGION}:{ACCOUNT}:"
    described = run(fresh_db, "ecs", "DescribeServices", {"cluster": "prod", "services": ["a", ecs + "service/x/b"]})
    assert [c.resource for c in described] == [ecs + "service/prod/a", ecs + "service/x/b"]
    assert [c.context["ecs:cluster"] for c in described] == [ecs + "cluster/prod", ecs + "cluster/x"]


def test_path_lists_act_on_the_path_listed(fresh_db: Database) -> None:
    # AWS's denial of ListRoles names "arn:aws:iam::<account>:role/" (the PathPrefix after "role").
    [roles] = run(fresh_db, "iam", "ListRoles", {})
    assert (roles.action, roles.resource, roles.resource_account) == (
        "iam:ListRoles", f"arn:aws:iam::{ACCOUNT}:role/", ACCOUNT)
    [prefixed] = run(fresh_db, "iam", "ListRoles", {"PathPrefix": "/app/"})
    assert prefixed.resource == f"arn:aws:iam::{ACCOUNT}:role/app/"
    [users] = run(fresh_db, "iam", "ListUsers", {})
    assert users.resource == f"arn:aws:iam::{ACCOUNT}:user/"
    [profiles] = run(fresh_db, "iam", "ListInstanceProfiles", {"PathPrefix": "/ec2/"})
    assert profiles.resource == f"arn:aws:iam::{ACCOUNT}:instance-profile/ec2/"


def test_actions_without_resource_types_check_star(fresh_db: Database) -> None:
    # The reference gives ELB's Describe* actions no resource type: AWS evaluates them on "*".
    [health] = run(fresh_db, "elbv2", "DescribeTargetHealth", {"TargetGroupArn": TG_ARN})
    assert health == Check("elasticloadbalancing:DescribeTargetHealth", "*")
    [whoami] = run(fresh_db, "sts", "GetCallerIdentity", {})
    assert whoami == Check("sts:GetCallerIdentity", "*")
    [vpcs] = run(fresh_db, "ec2", "DescribeVpcs", {})
    assert vpcs == Check("ec2:DescribeVpcs", "*", context={"ec2:Region": REGION})


def test_aws_managed_policy_is_not_a_cross_account_resource(fresh_db: Database) -> None:
    [check] = run(fresh_db, "iam", "GetPolicy", {"PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})
    assert check.resource == "arn:aws:iam::aws:policy/AdministratorAccess" and check.resource_account is None


def test_customer_policy_tags_come_from_the_database(fresh_db: Database) -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:policy/ops/P"
    fresh_db.execute("INSERT INTO iam_tags VALUES (?, 'policy', ?, 'owner', 'Owner', 'me', 1)", (ACCOUNT, arn))
    [check] = run(fresh_db, "iam", "GetPolicy", {"PolicyArn": arn})
    assert check.context == {"aws:ResourceTag/Owner": "me"}


def test_creates_use_the_requested_path_and_boundary(fresh_db: Database) -> None:
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/Boundary"
    [user] = run(fresh_db, "iam", "CreateUser", {"UserName": "bob", "Path": "/eng/", "PermissionsBoundary": boundary})
    assert user == Check("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/eng/bob", ACCOUNT,
                         {"iam:PermissionsBoundary": boundary})
    [policy] = run(fresh_db, "iam", "CreatePolicy", {"PolicyName": "P", "PolicyDocument": "{}"})
    assert policy.resource == f"arn:aws:iam::{ACCOUNT}:policy/P"
    [linked] = run(fresh_db, "iam", "CreateServiceLinkedRole", {"AWSServiceName": "ecs.amazonaws.com"})
    assert linked.resource == f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
    assert linked.context == {"iam:AWSServiceName": "ecs.amazonaws.com"}


def test_user_defaults_to_the_caller_and_renames_need_both_names(fresh_db: Database) -> None:
    [keys] = run(fresh_db, "iam", "ListAccessKeys", {})
    assert keys.resource == f"arn:aws:iam::{ACCOUNT}:user/alice"  # alice has no row here: path-less
    root = Principal(ACCOUNT, "Root", f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT)
    [as_root] = run(fresh_db, "iam", "ListAccessKeys", {}, principal=root)
    assert as_root.resource == "*"
    renamed = run(fresh_db, "iam", "UpdateUser", {"UserName": "bob", "NewUserName": "robert"})
    assert [c.resource for c in renamed] == [f"arn:aws:iam::{ACCOUNT}:user/bob", f"arn:aws:iam::{ACCOUNT}:user/robert"]


def test_elb_tag_on_create(fresh_db: Database) -> None:
    tags = [{"Key": "team", "Value": "blue"}]
    create, add_tags = run(fresh_db, "elbv2", "CreateTargetGroup", {"Name": "blue", "Tags": tags})
    new = ELB + "targetgroup/blue/*"
    assert create == Check("elasticloadbalancing:CreateTargetGroup", new, ACCOUNT,
                           {"aws:RequestTag/team": "blue", "aws:TagKeys": ["team"]})
    assert add_tags == Check("elasticloadbalancing:AddTags", new, ACCOUNT, {
        "elasticloadbalancing:CreateAction": "CreateTargetGroup", "aws:RequestTag/team": "blue",
        "aws:TagKeys": ["team"]})
    lb, _ = run(fresh_db, "elbv2", "CreateLoadBalancer", {"Name": "edge", "Type": "network", "Tags": tags,
                                                           "Subnets": ["subnet-1"]})
    assert lb.resource == ELB + "loadbalancer/net/edge/*"
    assert lb.context["elasticloadbalancing:Scheme"] == "internet-facing"
    assert lb.context["elasticloadbalancing:Subnet"] == ["subnet-1"]
    _, rule_tags = run(fresh_db, "elbv2", "CreateRule", {"ListenerArn": LISTENER_ARN, "Tags": tags})
    assert rule_tags.resource == ELB + "listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/*"


def test_task_definitions(fresh_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    ecs = f"arn:aws:ecs:{REGION}:{ACCOUNT}:"
    [register] = run(fresh_db, "ecs", "RegisterTaskDefinition", {"family": "web", "containerDefinitions": [
        {"name": "app", "privileged": False}], "cpu": "256", "requiresCompatibilities": ["FARGATE"]})
    assert register.resource == ecs + "task-definition/web:*"
    assert register.context == {"ecs:privileged": "false", "ecs:task-cpu": "256",
                                "ecs:compute-compatibility": ["FARGATE"]}
    [by_family] = run(fresh_db, "ecs", "RunTask", {"taskDefinition": "web"})
    assert by_family.resource == ecs + "task-definition/web:*"
    def latest(db: Database, account: str, region: str, family: str) -> str:
        return f"arn:aws:ecs:{region}:{account}:task-definition/{family}:7"

    monkeypatch.setitem(name_resolvers, "ecs:task-definition", latest)
    [resolved] = run(fresh_db, "ecs", "RunTask", {"taskDefinition": "web", "cluster": "prod"})
    assert resolved.resource == ecs + "task-definition/web:7"
    assert resolved.context == {"ecs:cluster": ecs + "cluster/prod"}  # RunTask lists no ecs:task-definition


def test_cloudtrail(fresh_db: Database) -> None:
    ct = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:"
    [create] = run(fresh_db, "cloudtrail", "CreateTrail", {"Name": "main", "S3BucketName": "b",
                                                           "TagsList": [{"Key": "k", "Value": "v"}]})
    assert create == Check("cloudtrail:CreateTrail", ct + "trail/main", ACCOUNT,
                           {"aws:RequestTag/k": "v", "aws:TagKeys": ["k"]})
    other = f"arn:aws:cloudtrail:us-east-1:{OTHER}:trail/org"
    [status] = run(fresh_db, "cloudtrail", "GetTrailStatus", {"Name": other})
    assert (status.resource, status.resource_account) == (other, OTHER)
    lookup, insights = run(fresh_db, "cloudtrail", "ListInsightsMetricData", {
        "TrailName": "main", "EventSource": "iam.amazonaws.com", "EventName": "GetRole",
        "InsightType": "ApiCallRateInsight"})
    assert (lookup.action, lookup.resource) == ("cloudtrail:LookupEvents", "*")
    assert (insights.action, insights.resource) == ("cloudtrail:ListInsightsData", ct + "trail/main")
    [query] = run(fresh_db, "cloudtrail", "StartQuery", {"QueryStatement": "SELECT * FROM eds-1 LIMIT 1"})
    assert query.resource == ct + "eventdatastore/eds-1"


def test_ec2_served_operations(fresh_db: Database) -> None:
    ec2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}:"
    tags = [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "main"}]}]
    vpc, create_tags = run(fresh_db, "ec2", "CreateVpc", {"CidrBlock": "10.0.0.0/16", "TagSpecifications": tags})
    assert vpc == Check("ec2:CreateVpc", ec2 + "vpc/*", ACCOUNT, {
        "aws:RequestTag/Name": "main", "aws:TagKeys": ["Name"], "ec2:Region": REGION})
    # The tags are authorized again as ec2:CreateTags on the new VPC (whose keys include its tenancy).
    assert create_tags == Check("ec2:CreateTags", ec2 + "vpc/*", ACCOUNT, {
        "ec2:CreateAction": "CreateVpc", "aws:RequestTag/Name": "main", "aws:TagKeys": ["Name"],
        "ec2:Region": REGION, "ec2:Tenancy": "default"})
    subnet, in_vpc = run(fresh_db, "ec2", "CreateSubnet", {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/24"})
    assert (subnet.resource, in_vpc.resource) == (ec2 + "subnet/*", ec2 + "vpc/vpc-1")
    assert in_vpc.context == {"ec2:VpcID": "vpc-1", "ec2:Region": REGION}
    [ingress] = run(fresh_db, "ec2", "AuthorizeSecurityGroupIngress", {"GroupId": "sg-1", "IpPermissions": []})
    assert ingress == Check("ec2:AuthorizeSecurityGroupIngress", ec2 + "security-group/sg-1", ACCOUNT,
                            {"ec2:SecurityGroupID": "sg-1", "ec2:Region": REGION})
    [by_name] = run(fresh_db, "ec2", "DeleteSecurityGroup", {"GroupName": "web"})
    assert by_name.resource == "*"  # no EC2 provider registered to resolve a group name
    tagged = run(fresh_db, "ec2", "CreateTags", {"Resources": ["vpc-1", "sg-2", "subnet-3", "zzz-4"],
                                                 "Tags": [{"Key": "a", "Value": "b"}]})
    assert [c.resource for c in tagged] == [ec2 + "vpc/vpc-1", ec2 + "security-group/sg-2", ec2 + "subnet/subnet-3"]


def test_condition_keys_follow_the_reference(fresh_db: Database) -> None:
    # sts:ExternalId is a key of AssumeRole, not of SetSourceIdentity; neither is aws:RequestTag.
    add_role(fresh_db, "R")
    checks = run(fresh_db, "sts", "AssumeRole", {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/R", "RoleSessionName": "s",
                                                  "ExternalId": "x", "SourceIdentity": "me"})
    assert [c.action for c in checks] == ["sts:AssumeRole", "sts:SetSourceIdentity"]
    assert checks[1].context == {"sts:SourceIdentity": "me"}
    # GetRole lists no request tag key: tags in a request it does not take never show.
    plan = build_plan("iam", "GetRole", ("RoleName", "Tags"))
    assert [family for family, _ in plan.request] == []


def test_a_failure_gives_one_unresolved_check(fresh_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail closed (issue 11): the call is not checked on "*" but gets a check the authorizer always denies."""
    def broken(db: Database, account: str, region: str, arn: str) -> dict[str, str]:
        raise RuntimeError("boom")

    monkeypatch.setitem(resource_tag_lookups, "cloudtrail", broken)
    [check] = run(fresh_db, "cloudtrail", "GetTrail", {"Name": "main"})
    assert (check.action, check.resource) == ("cloudtrail:GetTrail", "*")
    assert check.unresolved is not None
    assert "could not work out the resources of cloudtrail:GetTrail (RuntimeError: boom)" in check.unresolved


def test_declared_uncatalogued_operations_are_really_missing() -> None:
    for service, names in UNCATALOGUED.items():
        prefix = SERVICES[service].signing_name
        for name in names:
            assert catalog().action(prefix, name) is None, (service, name)
            assert SERVICES[service].operation(name) is not None, (service, name)
    assert resources_cloudtrail.RULES.actions == {"ListInsightsMetricData": "LookupEvents"}


class _Spy:
    """An authorizer that records every call it is asked to authorize and allows it."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def authorize(self, ctx: Any) -> None:
        self.asked.append(ctx.operation_name)


class _Unvalidated(Gateway):
    """The internal chain without validation: generated parameters only need to name resources, and a valid
    request must fail closed as well as an invalid one."""

    def steps(self, internal: bool) -> list[Any]:
        return [self._authorize, self._dispatch]


@pytest.mark.parametrize("service", ["iam", "sts", "elbv2", "ecs", "cloudtrail", "ec2"])
def test_an_operation_turnout_does_not_serve_fails_closed_before_authorization(db: Database, service: str) -> None:
    """A model operation Turnout does not serve (a newer botocore may carry operations the bundled authorization
    reference does not know) answers NotImplemented to the root user itself, and is never authorized: it can never
    be granted by a wildcard policy."""
    spec = SERVICES[service]
    served = served_operations(db)[service]
    unserved = sorted(set(spec.model.operation_names) - served)
    assert unserved, f"every {service} operation is served: pick another example"
    gateway = _Unvalidated(db=db, clock=ManualClock())
    spy = _Spy()
    gateway.authorizer = spy
    register_all(gateway)
    rules = rules_for(spec.signing_name)
    unknown = [op for op in unserved if catalog().action(spec.signing_name, rules.actions.get(op, op)) is None]
    for operation in [*unserved[:5], *unknown]:
        model = spec.model.operation_model(operation)
        action = catalog().action(spec.signing_name, rules.actions.get(operation, operation))
        params = Generator(spec.signing_name, action, True).value(model.input_shape, "") if model.input_shape else {}
        ctx = gateway.invoke(service, operation, params, Principal.root(ACCOUNT, "test"))
        assert ctx.error is not None and (ctx.error.code, ctx.error.status) == ("NotImplemented", 501), operation
    assert spy.asked == []
