"""Runs the external IAM evaluation vectors (../shared/conformance/iam-vectors) against the engine.

The vectors are read in place at test time and never copied into the repository (most derive from
AGPL-licensed test suites). Cases whose notion is outside AWS's semantics, or that contradict AWS's
documentation, are skipped with the reason from ``SKIPPED_TAGS`` / ``SKIPPED_CASES`` below (the one place
that lists them). Pass rates per source prefix and per tag are printed at the end of the session.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.policy import _report
from turnout.policy import Policy, PolicySet, Request, compile_policy, evaluate, make_request
from turnout.policy.model import ResourceKind

VECTORS = Path(__file__).resolve().parents[3] / "shared/conformance/iam-vectors"
FILES = ("vectors.jsonl", "vectors_coarse.jsonl")

_PATTERN = "iam-simulate's notion of a request resource that is itself a pattern ('could any resource like this be \
allowed'); AWS authorizes one concrete resource and matches it literally"
# tag -> (reason, id prefixes it applies to): the AWS-doc cases carrying this tag use a literal '*' (``${*}``)
SKIPPED_TAGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "iamsim:request_resource_pattern": (_PATTERN, ("iamsim-",)),
}
_NULL_VARIABLE = "AWS: with a policy variable that has no value, 'inverted condition operators like StringNotEquals \
or StringNotLike do match against a null value' (IAM User Guide, policy variables); the source says they fail"
_SESSION_ARN = "AWS: a resource-based policy naming the session ARN 'is not limited by the session policy' (IAM \
User Guide, session policies); the source applies the session policy"
_NOT_RESOURCE_VARIABLE = "AWS: a Resource/NotResource entry whose variable has no value 'will not match any \
resource', so a NotResource made of it excludes nothing; the source voids the statement instead"
_RESOURCE_TYPE = "the source refuses wildcards in the resource-type part of an ARN ('*/12345'); AWS documents no such \
matching rule (it is a policy-validation finding), and the same rule would break S3 keys ('arn:aws:s3:::*/key', \
which pmapper-unit:12 and moto allow)"
_STAR_REQUEST = f"request resource '*' for an action that takes resources: {_PATTERN}"
SKIPPED_CASES: dict[str, str] = {
    "iamsim-op:StringNotEquals#5": _NULL_VARIABLE,
    "iamsim-op:StringNotEqualsIgnoreCase#4": _NULL_VARIABLE,
    "iamsim-op:StringNotLike#6": _NULL_VARIABLE,
    "iamsim-op:ArnNotLike#11": _NULL_VARIABLE,
    "iamsim-core:sessionPolicies.json#7": _SESSION_ARN,
    "iamsim-res:notResourceTests#4": _NOT_RESOURCE_VARIABLE,
    "iamsim-res:resourceTests#12": _RESOURCE_TYPE,
    "iamsim-res:resourceTests#14": _RESOURCE_TYPE,
    "iamsim-core:resourceWildcards/requestWildcards.json#0": _STAR_REQUEST,
    "iamsim-core:resourceWildcards/requestWildcards.json#1": _STAR_REQUEST,
    "iamsim-core:resourceWildcards/requestWildcards.json#8": _STAR_REQUEST,
    "iamsim-core:resourceWildcards/requestWildcards.json#9": _STAR_REQUEST,
    "iamsim-core:resourceWildcards/requestWildcards.json#10": _STAR_REQUEST,
    "iamsim-res:resourceTests#28": _STAR_REQUEST,
}

_TRUST_ACTIONS = {"sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity", "sts:tagsession",
                  "sts:setsourceidentity"}
_KMS_KEY = re.compile(r"^arn:[^:]+:kms:[^:]*:[^:]*:key/")


def _load() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for name in FILES:
        path = VECTORS / name
        if path.exists():
            cases.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return cases


CASES = _load()


def _compile(document: dict[str, Any] | None, name: str) -> Policy | None:
    if document is None:
        return None
    return compile_policy(json.dumps(document, indent=2), policy_id=name)


def _policies(documents: list[dict[str, Any]] | None, name: str) -> list[Policy]:
    return [compile_policy(json.dumps(doc, indent=2), policy_id=f"{name}/{i}") for i, doc in enumerate(documents or [])]


def _levels(levels: list[dict[str, Any]] | None, name: str) -> list[list[Policy]] | None:
    if levels is None:
        return None
    return [_policies(level["policies"], f"{name}/{level['org_identifier']}") for level in levels]


def resource_kind(action: str, resource: str) -> ResourceKind:
    """A role's trust policy decides sts:AssumeRole*; a KMS key's key policy decides actions on the key."""
    if action.lower() in _TRUST_ACTIONS and ":role/" in resource:
        return "trust"
    if _KMS_KEY.match(resource):
        return "key"
    return "resource"


def to_engine(case: dict[str, Any]) -> tuple[Request, PolicySet]:
    req = case["request"]
    principal = None if req.get("anonymous") else req["principal"]
    request = make_request(principal, req["action"], req["resource"], resource_account=req.get("resource_account"),
                           context=req.get("context") or {})
    case_id = case["id"]
    policies = PolicySet(
        identity=_policies(case.get("identity_policies"), f"{case_id}/identity"),
        resource=_compile(case.get("resource_policy"), f"{case_id}/resource"),
        resource_kind=resource_kind(req["action"], req["resource"]),
        boundary=_compile(case.get("permission_boundary"), f"{case_id}/boundary"),
        session=_policies([case["session_policy"]] if case.get("session_policy") else [], f"{case_id}/session"),
        scps=_levels(case.get("scps"), f"{case_id}/scp"),
        rcps=_levels(case.get("rcps"), f"{case_id}/rcp"),
        endpoint=_policies(case.get("endpoint_policies"), f"{case_id}/endpoint"),
    )
    return request, policies


def skip_reason(case: dict[str, Any]) -> str | None:
    if case["id"] in SKIPPED_CASES:
        return SKIPPED_CASES[case["id"]]
    for tag in case["tags"]:
        if tag in SKIPPED_TAGS:
            reason, prefixes = SKIPPED_TAGS[tag]
            if case["id"].startswith(prefixes):
                return reason
    return None


_PARAMS: list[dict[str, Any] | None] = list(CASES) or [None]


@pytest.mark.parametrize("case", _PARAMS, ids=[case["id"] for case in CASES] or ["no-vectors"])
def test_vector(case: dict[str, Any] | None) -> None:
    if case is None:
        pytest.skip(f"conformance vectors not found at {VECTORS}")
    reason = skip_reason(case)
    if reason is not None:
        _report.record(case["id"], case["tags"], "skipped", reason)
        pytest.skip(reason)
    request, policies = to_engine(case)
    decision = evaluate(request, policies)
    expected = case["expected"]
    got = decision.effect if expected != "Deny" else ("Allow" if decision.allowed else "Deny")
    _report.record(case["id"], case["tags"], "passed" if got == expected else "failed")
    assert got == expected, f"{case['description']}: expected {expected}, got {got} ({decision})"
