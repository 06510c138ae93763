"""The Service Authorization Reference as Turnout ships it: data file, loader, templates and lookups."""

from __future__ import annotations

import gzip
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, shared_path
from turnout.reference import authorization as catalog_module
from turnout.reference.authorization import Catalog, catalog, load, template_pattern

DATA_FILE = REPO / "src" / "turnout" / "data" / catalog_module.DATA_FILE
PREFIXES = ("iam", "sts", "elasticloadbalancing", "ec2", "ecs", "cloudtrail", "s3")


def _tool() -> Any:
    spec = importlib.util.spec_from_file_location("build_authz_reference", REPO / "tools" / "build_authz_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def source() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(shared_path("data", "aws-iam", "aws-iam-definition.json").read_text())
    return data


def test_loaded_once_and_lazily() -> None:
    assert catalog() is catalog()
    probe = (
        "import turnout.authz.context, turnout.reference.authorization as c; print(c._catalog is None); "
        "c.catalog(); print(c._catalog is not None)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True"]


def test_the_prefixes_and_their_sizes() -> None:
    ref = catalog()
    assert sorted(ref.services) == sorted(PREFIXES)
    sizes = {p: (len(s.actions), len(s.resource_types), len(s.condition_types)) for p, s in ref.services.items()}
    assert sizes == {
        "iam": (187, 14, 20), "sts": (16, 6, 57), "elasticloadbalancing": (77, 11, 11),
        "ec2": (780, 110, 147), "ecs": (67, 9, 28), "cloudtrail": (66, 4, 3), "s3": (168, 13, 55),
    }
    assert ref.source["licence"] == "MIT, Copyright 2019 Salesforce.com"
    assert ref.service("iam") is ref.service("IAM")


def test_rebuilding_gives_the_shipped_bytes(tmp_path: Path) -> None:
    shared = shared_path("data", "aws-iam", "aws-iam-definition.json").parent.parent
    tool = _tool()
    out = tmp_path / "again.json.gz"
    tool.write(tool.build(shared), out)
    assert out.read_bytes() == DATA_FILE.read_bytes()


def test_every_action_is_the_source_s(source: dict[str, Any]) -> None:
    ref = catalog()
    for prefix in PREFIXES:
        original = source[prefix]
        service = ref.services[prefix]
        assert service.name == original["service_name"]
        assert list(service.actions) == list(original["privileges"])
        for name, entry in original["privileges"].items():
            action = service.actions[name]
            assert action.qualified == f"{prefix}:{name}"
            assert action.access_level == entry["access_level"]
            rows = {t: r for t, r in entry["resource_types"].items() if t}
            assert [r.resource_type for r in action.resources] == list(rows)
            for row in action.resources:
                assert row.required is rows[row.resource_type]["required"]
                assert list(row.condition_keys) == rows[row.resource_type]["condition_keys"]
                assert row.resource_type in service.resource_types
            empty = entry["resource_types"].get("", {"condition_keys": [], "dependent_actions": []})
            assert list(action.condition_keys) == empty["condition_keys"]
            assert list(action.dependent_actions) == empty["dependent_actions"]
        for name, entry in original["resources"].items():
            rtype = service.resource_types[name]
            assert rtype.arn == entry["arn"] and list(rtype.condition_keys) == entry["condition_keys"]
        assert dict(service.condition_types) == {k: v["type"] for k, v in original["conditions"].items()}


def test_action_lookup_is_case_insensitive() -> None:
    ref = catalog()
    action = ref.action("iam", "getrole")
    assert action is not None and action.name == "GetRole"
    assert ref.action_named("elasticloadbalancing:ModifyRule") is ref.action("elasticloadbalancing", "MODIFYRULE")
    assert ref.action("iam", "NoSuchAction") is None
    assert ref.action("nosuchservice", "GetRole") is None
    assert ref.action_named("iam") is None


def test_action_shape() -> None:
    ref = catalog()
    attach = ref.action("iam", "AttachRolePolicy")
    assert attach is not None
    assert attach.required_types == ("role",)
    assert attach.condition_keys == ("iam:PolicyARN", "iam:PermissionsBoundary")
    assert attach.access_level == "Permissions management"
    modify = ref.action("elasticloadbalancing", "ModifyRule")
    assert modify is not None and modify.resource_types == ("listener-rule/app", "listener-rule/net")
    row = modify.row("listener-rule/app")
    assert row is not None and row.required and modify.row("targetgroup") is None
    describe = ref.action("elasticloadbalancing", "DescribeTargetHealth")
    assert describe is not None and describe.resources == ()


def test_templates_build_and_match() -> None:
    ref = catalog()
    role = ref.resource_type("iam", "role")
    assert role is not None and role.parameters == ("RoleNameWithPath",)
    arn = role.build({"RoleNameWithPath": "team/App"}, account="123456789012")
    assert arn == "arn:aws:iam::123456789012:role/team/App"
    assert role.matches(arn) and role.matches("arn:aws:iam::123456789012:role/App")
    assert not role.matches("arn:aws:iam::123456789012:user/App")
    with pytest.raises(KeyError):
        role.build({}, account="123456789012")

    rule = ref.resource_type("elasticloadbalancing", "listener-rule/app")
    listener = ref.resource_type("elasticloadbalancing", "listener/app")
    assert rule is not None and listener is not None
    base = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
    rule_arn = base + "listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
    assert rule.matches(rule_arn) and not listener.matches(rule_arn)
    assert listener.matches(base + "listener/app/web/50dc6c/f2f7dc")
    # Every placeholder needs a value; those before the last take no slash.
    assert not listener.matches(base + "listener/app/web/50dc6c")
    assert not listener.matches(base + "listener/app/web//f2f7dc")

    task_definition = ref.resource_type("ecs", "task-definition")
    assert task_definition is not None
    assert task_definition.build(
        {"TaskDefinitionFamilyName": "web", "TaskDefinitionRevisionNumber": "*"}, account="1", region="us-east-1",
    ) == "arn:aws:ecs:us-east-1:1:task-definition/web:*"

    pool = ref.resource_type("ec2", "ipam-pool")
    assert pool is not None
    built = pool.build({"IpamPoolId": "ipam-pool-1"}, account="1", region="us-east-1")
    assert built == "arn:aws:ec2::1:ipam-pool/ipam-pool-1"  # an IPAM pool's ARN has no region
    assert template_pattern("arn:${Partition}:s3:::${BucketName}").fullmatch("arn:aws:s3:::bucket") is not None


def test_condition_types() -> None:
    ref = catalog()
    assert ref.condition_type("iam:PassedToService") == "String"
    assert ref.condition_type("iam:ResourceTag/Owner") == "String"
    assert ref.condition_type("ecs:capacity-provider") == "ArrayOfARN"
    assert ref.condition_type("sts:TransitiveTagKeys") == "ArrayOfString"
    assert ref.condition_type("iam:NoSuchKey") is None
    assert ref.condition_type("s3:prefix") == "String"
    assert ref.condition_type("lambda:FunctionArn") is None  # a service the reference does not hold


def test_load_rejects_another_format() -> None:
    with pytest.raises(ValueError, match="format"):
        load(gzip.compress(json.dumps({"format": 2}).encode()))
    assert isinstance(load(DATA_FILE.read_bytes()), Catalog)
