"""Scenarios for the evaluation logic: policy types, accounts, principals, trust and key policies, diagnostics."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy.helpers import ACCOUNT, BUCKET_OBJECT, OTHER, ROLE, SESSION, USER, allow, decide, deny, policy
from turnout.policy import PolicySet, PolicyType, Position, evaluate, make_request

ADMIN = policy(allow(), name="admin")
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
OTHER_USER = f"arn:aws:iam::{OTHER}:user/bob"


def grant_to(principal: Any, effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Principal": principal, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*",
            **extra}


# --- explicit deny wins, wherever it is ---------------------------------------------------------------------

@pytest.mark.parametrize(("where", "denied_by"), [
    ("identity", PolicyType.IDENTITY),
    ("resource_policy", PolicyType.RESOURCE),
    ("boundary", PolicyType.BOUNDARY),
    ("session", PolicyType.SESSION),
    ("scps", PolicyType.SCP),
    ("rcps", PolicyType.RCP),
    ("endpoint", PolicyType.ENDPOINT),
])
def test_an_explicit_deny_anywhere_wins(where: str, denied_by: PolicyType) -> None:
    denying = policy(allow(), deny("s3:GetObject"), name=where)
    if where == "resource_policy":
        denying = policy(grant_to("*"), grant_to("*", "Deny"), name=where)
    layers: dict[str, Any] = {
        "identity": [ADMIN], "resource_policy": policy(grant_to("*")), "boundary": ADMIN, "session": [ADMIN],
        "scps": [[ADMIN]], "rcps": [[ADMIN]], "endpoint": [ADMIN],
    }
    layers[where] = {"identity": [denying], "session": [denying], "endpoint": [denying], "scps": [[denying]],
                     "rcps": [[denying]]}.get(where, denying)
    decision = decide(SESSION, **layers)
    assert (decision.effect, decision.denied_by) == ("ExplicitDeny", denied_by)


# --- identity, boundary, session -----------------------------------------------------------------------------

def test_no_policy_is_an_implicit_deny_by_identity_policy() -> None:
    decision = decide()
    assert (decision.effect, decision.denied_by) == ("ImplicitDeny", PolicyType.IDENTITY)


def test_boundary_and_session_policy_limit_identity() -> None:
    s3_only = policy(allow("s3:*"), name="s3-only")
    assert decide(SESSION, identity=[ADMIN], boundary=s3_only, session=[s3_only]).allowed
    decision = decide(SESSION, "ec2:RunInstances", "*", identity=[ADMIN], boundary=s3_only)
    assert (decision.effect, decision.denied_by) == ("ImplicitDeny", PolicyType.BOUNDARY)
    decision = decide(SESSION, "ec2:RunInstances", "*", identity=[ADMIN], session=[s3_only])
    assert (decision.effect, decision.denied_by) == ("ImplicitDeny", PolicyType.SESSION)


def test_session_policies_only_apply_to_sessions() -> None:
    assert decide(USER, identity=[ADMIN], session=[policy(allow("ec2:*"))]).allowed


# --- organisations -------------------------------------------------------------------------------------------

def test_every_scp_level_must_allow() -> None:
    s3_only = policy(allow("s3:*"))
    assert decide(identity=[ADMIN], scps=[[ADMIN], [s3_only]]).allowed
    decision = decide(identity=[ADMIN], scps=[[ADMIN], [policy(allow("ec2:*"))]])
    assert (decision.effect, decision.denied_by) == ("ImplicitDeny", PolicyType.SCP)
    assert decision.organizations_decision == "ImplicitDeny"
    assert decide(identity=[ADMIN], scps=[[]]).denied_by is PolicyType.SCP


def test_scps_do_not_apply_to_service_principals_or_anonymous_callers() -> None:
    trust = policy({"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"})
    decision = decide("ecs.amazonaws.com", "sts:AssumeRole", ROLE, resource_policy=trust, resource_kind="trust",
                      scps=[[policy(deny())]])
    assert decision.allowed
    public = policy(grant_to("*"))
    assert decide(None, resource_policy=public, scps=[[policy(deny())]]).allowed
    assert decide(None, resource_policy=public, rcps=[[ADMIN, policy(deny(Principal="*"))]]).effect == "ExplicitDeny"


def test_rcps_require_an_allow_at_every_level() -> None:
    decision = decide(identity=[ADMIN], rcps=[[ADMIN], []])
    assert (decision.effect, decision.denied_by) == ("ImplicitDeny", PolicyType.RCP)


# --- resource-based policies ---------------------------------------------------------------------------------

def test_same_account_user_or_session_arn_grants_alone() -> None:
    s3_none = policy(allow("ec2:*"))
    assert decide(USER, resource_policy=policy(grant_to({"AWS": USER}))).allowed
    assert decide(USER, resource_policy=policy(grant_to({"AWS": USER})), boundary=s3_none).allowed
    session_grant = policy(grant_to({"AWS": SESSION}))
    assert decide(SESSION, resource_policy=session_grant, boundary=s3_none, session=[s3_none]).allowed


def test_same_account_role_arn_is_limited_by_boundary_and_session() -> None:
    role_grant = policy(grant_to({"AWS": ROLE}))
    assert decide(SESSION, resource_policy=role_grant).allowed
    s3_none = policy(allow("ec2:*"))
    assert decide(SESSION, resource_policy=role_grant, boundary=s3_none).denied_by is PolicyType.BOUNDARY
    assert decide(SESSION, resource_policy=role_grant, session=[s3_none]).denied_by is PolicyType.SESSION


def test_role_arn_with_path_matches_its_sessions() -> None:
    pathed = f"arn:aws:iam::{ACCOUNT}:role/team/app"
    request = make_request(SESSION, "s3:GetObject", BUCKET_OBJECT, resource_account=ACCOUNT, role_arn=pathed)
    assert evaluate(request, PolicySet(resource=policy(grant_to({"AWS": pathed})))).allowed
    assert not evaluate(request, PolicySet(resource=policy(grant_to({"AWS": ROLE})))).allowed


@pytest.mark.parametrize("principal", [ACCOUNT, ROOT])
def test_same_account_grant_to_the_account_needs_identity(principal: str) -> None:
    account_grant = policy(grant_to({"AWS": principal}))
    assert decide(USER, resource_policy=account_grant).denied_by is PolicyType.IDENTITY
    assert decide(USER, resource_policy=account_grant, identity=[ADMIN]).allowed


def test_cross_account_needs_both_sides() -> None:
    grant = policy(grant_to({"AWS": OTHER_USER}))
    assert decide(OTHER_USER, resource_policy=grant).denied_by is PolicyType.IDENTITY
    assert decide(OTHER_USER, identity=[ADMIN]).denied_by is PolicyType.RESOURCE
    assert decide(OTHER_USER, identity=[ADMIN], resource_policy=grant).allowed
    assert decide(OTHER_USER, identity=[ADMIN], resource_policy=policy(grant_to({"AWS": OTHER}))).allowed
    bounded = decide(OTHER_USER, identity=[ADMIN], resource_policy=grant, boundary=policy(allow("ec2:*")))
    assert bounded.denied_by is PolicyType.BOUNDARY


def test_statement_without_principal_never_applies_in_a_resource_policy() -> None:
    no_principal = policy({"Effect": "Deny", "Action": "*", "Resource": "*"}, allow())
    assert decide(USER, identity=[ADMIN], resource_policy=no_principal).allowed


def test_not_principal() -> None:
    allow_all_but = policy({"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"},
                            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"})
    assert decide(USER, resource_policy=allow_all_but).allowed
    assert not decide(f"arn:aws:iam::{ACCOUNT}:user/bob", resource_policy=allow_all_but).allowed
    assert decide(None, resource_policy=allow_all_but).allowed


def test_not_principal_deny_always_denies_a_principal_with_a_boundary() -> None:
    guard = policy({"Effect": "Deny", "NotPrincipal": {"AWS": [USER, ROOT]}, "Action": "s3:*", "Resource": "*"})
    assert decide(USER, identity=[ADMIN], resource_policy=guard).allowed
    decision = decide(USER, identity=[ADMIN], resource_policy=guard, boundary=ADMIN)
    assert (decision.effect, decision.denied_by) == ("ExplicitDeny", PolicyType.RESOURCE)


# --- role trust policies and KMS key policies ----------------------------------------------------------------

def trust(principal: Any, effect: str = "Allow", **extra: Any) -> Any:
    return policy({"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole", **extra})


def test_trust_policy_must_allow_the_caller() -> None:
    decision = decide(USER, "sts:AssumeRole", ROLE, identity=[ADMIN], resource_policy=trust({"AWS": OTHER}),
                      resource_kind="trust")
    assert (decision.effect, decision.denied_by) == ("ImplicitDeny", PolicyType.TRUST)
    assert decide(USER, "sts:AssumeRole", ROLE, identity=[ADMIN], resource_kind="trust").denied_by is PolicyType.TRUST


def test_trust_policy_naming_the_user_needs_no_identity_allow() -> None:
    assert decide(USER, "sts:AssumeRole", ROLE, resource_policy=trust({"AWS": USER}), resource_kind="trust").allowed


def test_trust_policy_naming_the_account_needs_identity_allow() -> None:
    account = trust({"AWS": ROOT})
    alone = decide(USER, "sts:AssumeRole", ROLE, resource_policy=account, resource_kind="trust")
    assert alone.denied_by is PolicyType.IDENTITY
    assert decide(USER, "sts:AssumeRole", ROLE, identity=[ADMIN], resource_policy=account,
                  resource_kind="trust").allowed


def test_trust_policy_conditions_and_explicit_deny() -> None:
    external = trust({"AWS": USER}, Condition={"StringEquals": {"sts:ExternalId": "secret"}})
    assert decide(USER, "sts:AssumeRole", ROLE, resource_policy=external, resource_kind="trust",
                  context={"sts:ExternalId": "secret"}).allowed
    assert not decide(USER, "sts:AssumeRole", ROLE, resource_policy=external, resource_kind="trust").allowed
    denying = policy({"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "sts:AssumeRole"},
                     {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"})
    decision = decide(USER, "sts:AssumeRole", ROLE, resource_policy=denying, resource_kind="trust")
    assert (decision.effect, decision.denied_by) == ("ExplicitDeny", PolicyType.TRUST)


def test_service_principal_is_decided_by_the_trust_policy_alone() -> None:
    ecs = trust({"Service": "ecs.amazonaws.com"})
    assert decide("ecs.amazonaws.com", "sts:AssumeRole", ROLE, resource_policy=ecs, resource_kind="trust").allowed
    assert not decide("lambda.amazonaws.com", "sts:AssumeRole", ROLE, resource_policy=ecs,
                      resource_kind="trust").allowed
    assert not decide("ecs.amazonaws.com", "sts:AssumeRole", ROLE, resource_kind="trust").allowed


def test_key_policy_must_allow() -> None:
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k"
    key_policy = policy({"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"})
    assert decide(USER, "kms:Decrypt", key, identity=[ADMIN], resource_kind="key").denied_by is PolicyType.RESOURCE
    assert decide(USER, "kms:Decrypt", key, identity=[ADMIN], resource_policy=key_policy, resource_kind="key").allowed
    assert not decide(USER, "kms:Decrypt", key, resource_policy=key_policy, resource_kind="key").allowed


# --- special principals --------------------------------------------------------------------------------------

def test_root_bypasses_identity_policies_but_not_scps_or_resource_denies() -> None:
    assert decide(ROOT).allowed
    assert decide(ROOT, scps=[[policy(allow("ec2:*"))]]).denied_by is PolicyType.SCP
    deny_root = policy(grant_to({"AWS": ACCOUNT}, "Deny"))
    assert decide(ROOT, resource_policy=deny_root).effect == "ExplicitDeny"
    assert not decide(f"arn:aws:iam::{OTHER}:root").allowed
    assert decide(f"arn:aws:iam::{OTHER}:root", resource_policy=policy(grant_to({"AWS": OTHER}))).allowed


def test_anonymous_callers_need_a_public_resource_policy() -> None:
    assert decide(None).denied_by is PolicyType.RESOURCE
    assert decide(None, resource_policy=policy(grant_to("*"))).allowed
    assert decide(None, resource_policy=policy(grant_to({"AWS": "*"}))).allowed
    assert not decide(None, resource_policy=policy(grant_to({"AWS": ACCOUNT}))).allowed
    assert not decide(None, identity=[ADMIN]).allowed


def test_get_caller_identity_is_always_allowed() -> None:
    decision = decide(USER, "sts:GetCallerIdentity", "*", identity=[policy(deny())])
    assert decision.allowed and decision.reason


@pytest.mark.parametrize(("action", "resource", "allowed"), [
    ("iam:GetPolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess", True),
    ("iam:CreatePolicyVersion", "arn:aws:iam::aws:policy/ReadOnlyAccess", False),
    ("iam:DeleteRole", f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/R", False),
    ("iam:ListRoleTags", f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/R", True),
    ("iam:DeleteRole", f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/R", True),
    ("kms:DeleteAlias", f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/aws/s3", False),
    ("kms:DeleteAlias", f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/mine", True),
])
def test_aws_owned_resources_are_read_only(action: str, resource: str, allowed: bool) -> None:
    decision = decide(USER, action, resource, identity=[ADMIN])
    assert decision.allowed is allowed
    if not allowed:
        assert decision.denied_by is None and decision.reason


# --- diagnostics ---------------------------------------------------------------------------------------------

def test_decision_reports_matched_statements_with_positions() -> None:
    text_policy = policy({"Sid": "Read", "Effect": "Allow", "Action": "s3:Get*", "Resource": "*"},
                         {"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::secret/*"},
                         name="mine")
    decision = decide(identity=[text_policy], boundary=ADMIN)
    assert decision.allowed
    assert [(m.policy_type, m.policy_id, m.statement_index, m.sid, m.effect) for m in decision.matched] == [
        (PolicyType.IDENTITY, "mine", 0, "Read", "Allow"), (PolicyType.BOUNDARY, "admin", 0, None, "Allow"),
    ]
    assert decision.matched[0].start == Position(1, 41)
    assert decision.type_decisions == {PolicyType.IDENTITY: "Allow", PolicyType.BOUNDARY: "Allow"}
    assert decision.boundary_decision == "Allow" and decision.organizations_decision is None
    denied = decide(target="arn:aws:s3:::secret/x", identity=[text_policy])
    assert [m.sid for m in denied.matched] == ["Read", "NoSecrets"]
    assert denied.effect == "ExplicitDeny"


def test_resource_account_defaults_to_same_account() -> None:
    assert decide(identity=[ADMIN], resource_account=None).allowed
