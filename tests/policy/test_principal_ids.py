"""Principals named by IAM unique id (the saved form of a resource-based policy, issue 11 finding 1): an id names
the caller whose unique id it is, whatever its ARN; a bound ARN no longer matches by name."""

from __future__ import annotations

from tests.policy.helpers import ACCOUNT, ROLE, SESSION, USER, policy
from turnout.policy import PolicySet, evaluate, make_request
from turnout.policy.principals import MatchKind, compile_principal, match_principal

USER_ID = "AIDAEXAMPLEUSERID0001"
ROLE_ID = "AROAEXAMPLEROLEID0001"
TARGET = f"arn:aws:iam::{ACCOUNT}:role/target"


def trust(principal: str) -> PolicySet:
    document = policy({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"})
    return PolicySet(resource=document, resource_kind="trust")


def allowed(policies: PolicySet, principal: str, unique_id: str | None) -> bool:
    request = make_request(principal, "sts:AssumeRole", TARGET, resource_account=ACCOUNT, principal_id=unique_id)
    return evaluate(request, policies).allowed


def test_unique_ids_are_kept_apart_from_arns() -> None:
    spec, problems = compile_principal({"AWS": [USER_ID, ROLE_ID, USER]})
    assert problems == []
    assert spec.ids == frozenset({USER_ID, ROLE_ID})
    assert spec.arns == frozenset({USER})


def test_a_user_id_names_the_user_that_carries_it_and_no_namesake() -> None:
    saved = trust(USER_ID)
    assert allowed(saved, USER, USER_ID)
    assert not allowed(saved, USER, "AIDAEXAMPLEUSERID0002")  # the same name, re-created: a new id
    assert not allowed(saved, USER, None)


def test_a_role_id_names_every_session_of_the_role_as_the_role() -> None:
    spec, _ = compile_principal({"AWS": ROLE_ID})
    session = make_request(SESSION, "sts:AssumeRole", TARGET, role_arn=ROLE, principal_id=ROLE_ID)
    assert match_principal(spec, session) is MatchKind.ROLE
    assert allowed(trust(ROLE_ID), SESSION, ROLE_ID)
    assert not allowed(trust(ROLE_ID), SESSION, "AROAEXAMPLEROLEID0002")


def test_a_user_id_is_matched_directly() -> None:
    spec, _ = compile_principal({"AWS": USER_ID})
    assert match_principal(spec, make_request(USER, "s3:GetObject", "*", principal_id=USER_ID)) is MatchKind.DIRECT
