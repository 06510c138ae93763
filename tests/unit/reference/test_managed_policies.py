"""The AWS managed policy catalogue: its data file, the loader, and what it answers."""

from __future__ import annotations

import gzip
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, SHARED
from turnout.reference import managed_policies as managed

if not (SHARED / "data" / "aws-iam").exists():
    pytest.skip("../shared/data is absent: the catalogue is checked against its sources", allow_module_level=True)

MAIN = SHARED / "data" / "aws-iam" / "aws-managed-policies.json"
NEWER = SHARED / "data" / "aws-iam" / "aws-managed-policies.newer-from-iam-dataset.json"
POLICY_FILES = SHARED / "data" / "aws-managed-policies"
LB = "AmazonECSInfrastructureRolePolicyForLoadBalancers"
DATA_FILE = REPO / "src" / "turnout" / "data" / managed.DATA_FILE


@pytest.fixture(scope="module")
def sources() -> tuple[dict[str, Any], dict[str, Any]]:
    return json.loads(MAIN.read_text()), json.loads(NEWER.read_text())


def test_loaded_once_and_lazily() -> None:
    assert managed.catalogue() is managed.catalogue()
    # Importing the IAM provider (server start) does not read the data file.
    probe = (
        "import turnout.services.iam.provider, turnout.reference.managed_policies as m; "
        "print(m._catalogue is None); m.catalogue(); print(m._catalogue is not None)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True"]


def test_every_source_policy_is_listed_once(sources: tuple[dict[str, Any], dict[str, Any]]) -> None:
    main, newer = sources
    catalogue = managed.catalogue()
    new_names = [p["PolicyName"] for p in newer["policies"] if p["ChangeVsMainFile"] == "new"]
    assert len(catalogue) == len(main["policies"]) + len(new_names) == 1452 + 119
    arns = [p.arn for p in catalogue.listed]
    assert len(set(arns)) == len(arns)
    assert [p.position for p in catalogue.listed] == list(range(len(catalogue)))
    # The MAMIP listing order first (AWS's ListPolicies order), then the newer policies.
    assert [p.name for p in catalogue.listed[: len(main["policies"])]] == [p["PolicyName"] for p in main["policies"]]
    assert {p.name for p in catalogue.listed[len(main["policies"]):]} == set(new_names)
    for policy in catalogue.listed:
        assert catalogue.get(policy.arn) is policy
        assert policy.arn == f"arn:aws:iam::aws:policy{policy.path}{policy.name}"
        assert policy.policy_id.startswith("ANPA") and len(policy.policy_id) == 21
        assert policy.default_version.version_id == policy.default_version_id
        assert policy.create_date <= policy.update_date
        json.loads(policy.default_version.document)


def test_documents_are_exact(sources: tuple[dict[str, Any], dict[str, Any]]) -> None:
    main, newer = sources
    catalogue = managed.catalogue()
    updated = {p["PolicyName"] for p in newer["policies"]}
    for source in main["policies"]:
        policy = catalogue.get(source["Arn"])
        assert policy is not None
        assert policy.policy_id == source["PolicyId"] and policy.attachable is source["IsAttachable"]
        if source["PolicyName"] not in updated:
            document = policy.default_version.document
            assert document == json.dumps(source["Document"], indent=4, ensure_ascii=False)
            assert policy.default_version_id == source["DefaultVersionId"]


def test_newer_versions_are_preferred(sources: tuple[dict[str, Any], dict[str, Any]]) -> None:
    _, newer = sources
    catalogue = managed.catalogue()
    for source in newer["policies"]:
        policy = catalogue.get(source["Arn"])
        assert policy is not None, source["Arn"]
        assert policy.default_version_id == source["DefaultVersionId"]
        assert json.loads(policy.default_version.document) == source["Document"]


def test_load_balancer_policy_versions() -> None:
    policy = managed.catalogue().get(f"arn:aws:iam::aws:policy/{LB}")
    assert policy is not None
    assert [(v.version_id, v.created) for v in policy.versions] == [
        ("v6", "2026-02-12T18:01:05Z"), ("v4", "2026-02-11T22:17:58Z"),
        ("v2", "2025-07-25T20:22:06Z"), ("v1", "2025-07-17T16:37:07Z"),
    ]
    assert policy.default_version_id == "v6" and policy.path == "/"
    assert policy.created == "2025-07-17T16:37:07Z" and policy.updated == "2026-02-12T18:01:05Z"
    assert policy.description is not None and policy.description.startswith("Provides access to other AWS")
    for version_id in ("v1", "v2", "v4", "v6"):
        version = policy.version(version_id)
        assert version is not None
        assert version.document == (POLICY_FILES / f"{LB}.{version_id}.json").read_text()
    assert policy.version("v3") is None


def test_deprecated_policies_resolve_by_name_and_are_not_attachable() -> None:
    catalogue = managed.catalogue()
    for arn in ("arn:aws:iam::aws:policy/AWSLambdaFullAccess",
                "arn:aws:iam::aws:policy/service-role/AmazonEC2SpotFleetRole"):
        policy = catalogue.get(arn)
        assert policy is not None and policy.deprecated and not policy.attachable
        assert policy.arn == arn and policy.position == -1
        assert arn.endswith(policy.path + policy.name)
    assert catalogue.get("arn:aws:iam::aws:policy/AWSCodeArtifactReadOnlyAccess.json") is None
    assert catalogue.get("arn:aws:iam::aws:policy/NoSuchPolicy") is None
    assert catalogue.get("arn:aws:iam::000000000000:policy/AWSLambdaFullAccess") is None
    listed = {p.name for p in catalogue.listed}
    assert not listed & set(catalogue.deprecated)
    # A policy MAMIP lists as deprecated but the newer source lists again is a live policy.
    revived = catalogue.get("arn:aws:iam::aws:policy/AWSCodePipelineFullAccess")
    assert revived is not None and revived.attachable and not revived.deprecated


def test_load_from_bytes() -> None:
    data = {
        "format": 1, "sources": [],
        "policies": [{
            "name": "Tiny", "path": "/job-function/", "id": "ANPAAAAAAAAAAAAAAAAAA", "default": "v2",
            "attachable": True, "created": "2020-01-01T00:00:00Z", "updated": "2021-01-01T00:00:00Z",
            "versions": [{"id": "v2", "created": "2021-01-01T00:00:00Z", "document": "{}"},
                         {"id": "v1", "created": "2020-01-01T00:00:00Z", "document": "{ }"}],
        }],
        "deprecated": [],
    }
    catalogue = managed.load(gzip.compress(json.dumps(data).encode()))
    tiny = catalogue.get("arn:aws:iam::aws:policy/job-function/Tiny")
    assert tiny is not None and len(catalogue) == 1
    assert tiny.default_version.document == "{}" and tiny.version("v1") is not None
    assert tiny.description is None and tiny.update_date.year == 2021


def test_data_file_is_what_the_build_script_makes() -> None:
    spec = importlib.util.spec_from_file_location("build_catalogue", REPO / "tools" / "build_catalogue.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build(SHARED / "data")
    assert json.loads(gzip.decompress(DATA_FILE.read_bytes())) == built
    assert Path(DATA_FILE.parent / "NOTICE").read_text().count("Licence") >= 2
