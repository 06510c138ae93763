"""The identity-only road shares its per-type outcomes between calls: they must be read-only, and equal to what
the general road builds."""

from __future__ import annotations

import json

import pytest

from turnout.policy import PolicySet, PolicyType, compile_policy, evaluate, make_request
from turnout.policy.evaluate import evaluate_general

USER = "arn:aws:iam::123456789012:user/alice"
ROLE = "arn:aws:iam::123456789012:role/app"
DOCUMENT = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/*",
     "Condition": {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}}},
    {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/*",
     "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
]}


@pytest.mark.parametrize(("service", "effect", "outcome"), [
    ("ecs.amazonaws.com", "Allow", "Allow"),
    ("ec2.amazonaws.com", "ImplicitDeny", "ImplicitDeny"),
    ("lambda.amazonaws.com", "ExplicitDeny", "ExplicitDeny"),
])
def test_shared_type_decisions_are_read_only(service: str, effect: str, outcome: str) -> None:
    policies = PolicySet(identity=[compile_policy(json.dumps(DOCUMENT), policy_id="p")])
    request = make_request(USER, "iam:PassRole", ROLE, context={"iam:PassedToService": service})
    first = evaluate(request, policies)
    assert first.effect == effect
    assert dict(first.type_decisions) == {PolicyType.IDENTITY: outcome}
    with pytest.raises(TypeError):
        first.type_decisions[PolicyType.BOUNDARY] = "Allow"  # type: ignore[index]
    assert first == evaluate_general(request, policies)
    again = evaluate(make_request(USER, "iam:PassRole", ROLE, context={"iam:PassedToService": service}), policies)
    assert dict(again.type_decisions) == {PolicyType.IDENTITY: outcome}


def test_missing_keys_still_reported_on_the_shared_path() -> None:
    policies = PolicySet(identity=[compile_policy(json.dumps(DOCUMENT), policy_id="p")])
    decision = evaluate(make_request(USER, "iam:PassRole", ROLE), policies)
    assert decision.effect == "ImplicitDeny"
    assert decision.missing_context_keys == ["iam:PassedToService"]
    assert dict(decision.type_decisions) == {PolicyType.IDENTITY: "ImplicitDeny"}


@pytest.mark.parametrize("principal", [
    "arn:aws:iam::123456789012:root", USER, ROLE, "arn:aws:sts::123456789012:assumed-role/app/s",
    "arn:aws:sts::123456789012:federated-user/bob", "ecs.amazonaws.com", "arn:aws:iam::123456789012:group/g",
])
def test_remembered_reading_of_a_caller_matches_the_plain_helpers(principal: str) -> None:
    from turnout.policy.callers import _READ, account_of, principal_type_of

    _READ.pop(principal, None)
    for _ in range(2):  # read, then remembered
        request = make_request(principal, "s3:GetObject", "arn:aws:s3:::b/k")
        assert request.principal_type == principal_type_of(principal)
        assert request.principal_account == (account_of(principal) if principal.startswith("arn:") else None)
        assert request.principal_service == (None if principal.startswith("arn:") else principal)


def test_remembered_callers_are_bounded() -> None:
    from turnout.policy.callers import _READ, MAX_PRINCIPALS

    for i in range(MAX_PRINCIPALS + 10):
        make_request(f"arn:aws:iam::123456789012:user/u{i}", "s3:GetObject", "*")
    assert len(_READ) <= MAX_PRINCIPALS


@pytest.mark.parametrize(("resource", "applies"), [
    ("arn:aws:iam::123456789012:role/app", True),
    ("arn:aws:iam::role/app", False),  # the account part's ``*`` may match nothing, but the text is not there
    ("arn:aws:iam:::role/app", True),
    ("arn:aws:iam::1:role/ap", False),
])
def test_prefix_star_suffix_resource_does_not_overlap(resource: str, applies: bool) -> None:
    document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:GetRole", "Resource": "arn:aws:iam::*:role/app"}]}
    policies = PolicySet(identity=[compile_policy(json.dumps(document), policy_id="p")])
    request = make_request(USER, "iam:GetRole", resource)
    decision = evaluate(request, policies)
    assert decision == evaluate_general(request, policies)
    assert (decision.effect == "Allow") is applies
