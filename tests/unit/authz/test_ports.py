"""authz against a fake implementation of its protocols (turnout.authz.ports): no database, no IAM.

Whatever implements the protocols is what authorization sees: the caller's policies, boundaries and tags, the
resources of IAM operations, the role passed. If authz read IAM's tables itself, these tests would find nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from turnout.authz.checks import Check
from turnout.authz.context import checks_for
from turnout.authz.passrole import PassedRole, check_pass_role
from turnout.authz.policies import NoSuchEntity, entity_policies, inline_policy_id, load_caller
from turnout.authz.ports import EntityFacts, Identities, Identity, InlinePolicy, LinkedRole
from turnout.core.principal import Principal, Session
from turnout.gateway.gateway import AllowAll
from turnout.policy import PolicySet, evaluate, make_request
from turnout.wire.errors import ServiceError
from turnout.wire.models import SERVICES

ACCOUNT = "123456789012"
ALICE = Identity("user", "alice", f"arn:aws:iam::{ACCOUNT}:user/team/Alice", f"arn:aws:iam::{ACCOUNT}:policy/Bound")
OPS = Identity("group", "ops", f"arn:aws:iam::{ACCOUNT}:group/Ops", None)
APP = Identity("role", "app", f"arn:aws:iam::{ACCOUNT}:role/svc/App", None)
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def allow(action: str, resource: str = "*") -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action,
                                                               "Resource": resource}]})


@dataclass
class FakeIdentities:
    """IAM as a few dictionaries; ``calls`` records what authz asked."""

    users: dict[str, Identity] = field(default_factory=lambda: {"AIDAALICE": ALICE})
    roles: dict[str, Identity] = field(default_factory=lambda: {"AROAAPP": APP})
    inline: dict[str, list[InlinePolicy]] = field(default_factory=lambda: {
        ALICE.arn: [InlinePolicy("own", allow("iam:GetUser"))],
        OPS.arn: [InlinePolicy("ops", allow("ecs:ListClusters"))],
        APP.arn: [InlinePolicy("run", allow("ecs:RunTask"))],
    })
    attached: dict[str, list[str]] = field(default_factory=lambda: {
        ALICE.arn: [f"arn:aws:iam::{ACCOUNT}:policy/Mine", "arn:aws:iam::aws:policy/Gone"],
    })
    documents: dict[str, str] = field(default_factory=lambda: {
        f"arn:aws:iam::{ACCOUNT}:policy/Mine": allow("iam:ListRoles"),
        f"arn:aws:iam::{ACCOUNT}:policy/Bound": allow("iam:*"),
    })
    tag_sets: dict[tuple[str, str], dict[str, str]] = field(default_factory=lambda: {
        ("user", "alice"): {"team": "blue"},
        ("role", "app"): {"tier": "web"},
        ("policy", f"arn:aws:iam::{ACCOUNT}:policy/Mine"): {"owner": "me"},
    })
    calls: list[str] = field(default_factory=list)

    def user_by_id(self, account: str, user_id: str) -> Identity | None:
        self.calls.append(f"user_by_id {user_id}")
        return self.users.get(user_id) if account == ACCOUNT else None

    def role_by_id(self, account: str, role_id: str) -> Identity | None:
        self.calls.append(f"role_by_id {role_id}")
        return self.roles.get(role_id) if account == ACCOUNT else None

    def identity(self, account: str, kind: str, name: str) -> Identity | None:
        every = [ALICE, OPS, APP]
        return next((i for i in every if i.kind == kind and i.name_lower == name.lower()), None)

    def inline_policies(self, account: str, identity: Identity) -> list[InlinePolicy]:
        return self.inline.get(identity.arn, [])

    def attached_policies(self, account: str, identity: Identity) -> list[str]:
        return self.attached.get(identity.arn, [])

    def groups_of(self, account: str, user: Identity) -> list[Identity]:
        return [OPS] if user == ALICE else []

    def tags(self, account: str, resource_type: str, resource_key: str) -> dict[str, str]:
        return dict(self.tag_sets.get((resource_type, resource_key), {}))

    def managed_policy_document(self, account: str, arn: str) -> str | None:
        return self.documents.get(arn)

    def entity_facts(self, account: str, kind: str, name: str) -> EntityFacts | None:
        found = self.identity(account, kind, name)
        if found is None:
            return None
        trust = TRUST if kind == "role" else None
        return EntityFacts(found.arn, trust, found.permissions_boundary, self.tags(account, kind, found.name_lower))

    def access_key_user(self, access_key_id: str) -> str | None:
        return "Alice" if access_key_id == "AKIAALICE" else None

    def linked_role(self, service: str) -> LinkedRole | None:
        if service != "fake.amazonaws.com":
            return None
        return LinkedRole("AWSServiceRoleForFake", "/aws-service-role/fake.amazonaws.com/")

    def role_to_pass(self, account: str, name: str) -> PassedRole | None:
        if account != ACCOUNT or name.lower() != "app":
            return None
        return PassedRole(APP.arn, "App", "AROAAPP", ACCOUNT, TRUST)


def _identities(fake: FakeIdentities) -> Identities:
    return fake


def _members(protocol: type) -> set[str]:
    return {name for klass in protocol.__mro__ if klass.__module__ == "turnout.authz.ports"
            for name, value in vars(klass).items() if callable(value) and not name.startswith("_")}


def test_the_fake_and_iam_implement_every_method_authz_declares() -> None:
    from turnout.services.iam.store.views import IdentityViews

    declared = _members(Identities)
    assert {"user_by_id", "entity_facts", "role_to_pass", "managed_policy_document"} <= declared
    assert declared <= set(dir(FakeIdentities)) and declared <= set(dir(IdentityViews))


@pytest.fixture
def fake() -> FakeIdentities:
    return FakeIdentities()


def ids(policies: Any) -> list[str]:
    return [p.policy_id for p in policies]


def user(access_key: str | None = None, session: Session | None = None) -> Principal:
    return Principal(ACCOUNT, "IAMUser", ALICE.arn, "AIDAALICE", "Alice", access_key, session)


def role_session(role_id: str = "AROAAPP", policy_arns: tuple[str, ...] = ()) -> Principal:
    session = Session(issuer_type="Role", issuer_arn=APP.arn, issuer_id=role_id, issuer_name="App",
                      session_name="s", issued_at="2026-01-01T00:00:00+00:00",
                      expires_at="2026-01-01T01:00:00+00:00", policy_arns=policy_arns)
    return Principal(ACCOUNT, "AssumedRole", f"arn:aws:sts::{ACCOUNT}:assumed-role/App/s", f"{role_id}:s", "s",
                     None, session)


def ctx(fake: FakeIdentities, service: str, operation: str, params: dict[str, Any],
        principal: Principal | None = None) -> Any:
    spec = SERVICES[service]
    model = spec.operation(operation)
    assert model is not None
    caller = principal or user()
    gateway = SimpleNamespace(db=None, identities=_identities(fake), authorizer=AllowAll())
    return SimpleNamespace(gateway=gateway, principal=caller, account_id=caller.account_id, region="us-east-1",
                           params=params, service=spec, operation=model, operation_name=operation, protocol="query")


# -- the caller's policies -------------------------------------------------------------------------------------


def test_a_users_policies_groups_boundary_and_tags_come_from_the_protocol(fake: FakeIdentities) -> None:
    caller = load_caller(_identities(fake), user())
    # Its own inline, its attached (a missing managed policy is skipped), then its groups'.
    assert ids(caller.identity) == [inline_policy_id(ALICE.arn, "own"), f"arn:aws:iam::{ACCOUNT}:policy/Mine",
                                    inline_policy_id(OPS.arn, "ops")]
    assert caller.boundary is not None and caller.boundary.policy_id == ALICE.permissions_boundary
    assert caller.tags == {"team": "blue"} and caller.session == ()
    assert fake.calls == ["user_by_id AIDAALICE"]

    policies = PolicySet(identity=caller.identity, boundary=caller.boundary)
    allowed = make_request(ALICE.arn, "ecs:ListClusters", "*", principal_id="AIDAALICE")
    denied = make_request(ALICE.arn, "ecs:RunTask", "*", principal_id="AIDAALICE")
    # The group's policy allows and the boundary (iam:* only) does not: the boundary wins; RunTask is not allowed.
    assert not evaluate(allowed, policies).allowed
    assert not evaluate(denied, policies).allowed
    assert evaluate(make_request(ALICE.arn, "iam:ListRoles", "*", principal_id="AIDAALICE"), policies).allowed


def test_a_deleted_user_has_no_policies(fake: FakeIdentities) -> None:
    fake.users.clear()
    caller = load_caller(_identities(fake), user())
    assert caller.identity == () and caller.boundary is None and caller.tags == {}


def test_a_role_sessions_policies_and_a_gone_role(fake: FakeIdentities) -> None:
    mine = f"arn:aws:iam::{ACCOUNT}:policy/Mine"
    caller = load_caller(_identities(fake), role_session(policy_arns=(mine,)))
    assert ids(caller.identity) == [inline_policy_id(APP.arn, "run")]
    assert ids(caller.session) == [mine] and caller.tags == {"tier": "web"}
    gone = load_caller(_identities(fake), role_session("AROAGONE", policy_arns=(mine,)))
    assert gone.identity == () and ids(gone.session) == [mine]  # only the session's own policies remain


def test_root_reads_nothing(fake: FakeIdentities) -> None:
    caller = load_caller(_identities(fake), Principal.root(ACCOUNT, "test"))
    assert caller.identity == () and fake.calls == []


def test_entity_policies_through_the_protocol(fake: FakeIdentities) -> None:
    found = entity_policies(_identities(fake), ACCOUNT, OPS.arn)
    assert ids(found.identity) == [inline_policy_id(OPS.arn, "ops")] and found.boundary is None
    with pytest.raises(NoSuchEntity):
        entity_policies(_identities(fake), ACCOUNT, f"arn:aws:iam::{ACCOUNT}:group/Other")
    with pytest.raises(NoSuchEntity):  # the path is part of the ARN
        entity_policies(_identities(fake), ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/App")


# -- the resources of IAM operations ---------------------------------------------------------------------------


def test_an_iam_entitys_arn_tags_and_boundary_come_from_the_protocol(fake: FakeIdentities) -> None:
    [check] = checks_for(ctx(fake, "iam", "GetUser", {"UserName": "alice"}))
    assert check.action == "iam:GetUser" and check.resource == ALICE.arn and check.unresolved is None
    assert check.context.get("aws:ResourceTag/team") == "blue"
    [missing] = checks_for(ctx(fake, "iam", "GetRole", {"RoleName": "nobody"}))
    assert missing.resource == f"arn:aws:iam::{ACCOUNT}:role/nobody"  # path-less when it does not exist


def test_a_managed_policys_tags_come_from_the_protocol(fake: FakeIdentities) -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:policy/Mine"
    [check] = checks_for(ctx(fake, "iam", "GetPolicy", {"PolicyArn": arn}))
    assert check == Check("iam:GetPolicy", arn, ACCOUNT, {"aws:ResourceTag/owner": "me"})


def test_key_owner_and_service_linked_role_come_from_the_protocol(fake: FakeIdentities) -> None:
    [key] = checks_for(ctx(fake, "iam", "GetAccessKeyLastUsed", {"AccessKeyId": "AKIAALICE"}))
    assert key.resource == ALICE.arn
    [linked] = checks_for(ctx(fake, "iam", "CreateServiceLinkedRole", {"AWSServiceName": "fake.amazonaws.com"}))
    assert linked.resource == f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/fake.amazonaws.com/AWSServiceRoleForFake"


def test_assume_role_carries_the_trust_policy_from_the_protocol(fake: FakeIdentities) -> None:
    [check] = checks_for(ctx(fake, "sts", "AssumeRole", {"RoleArn": APP.arn, "RoleSessionName": "s"}))
    assert check.resource == APP.arn and check.resource_policy == TRUST and check.resource_policy_kind == "trust"


# -- iam:PassRole ------------------------------------------------------------------------------------------------


def test_pass_role_returns_the_protocols_role_and_refuses_others(fake: FakeIdentities) -> None:
    found = check_pass_role(ctx(fake, "ecs", "RunTask", {}), APP.arn, "ecs-tasks.amazonaws.com")
    assert found == PassedRole(APP.arn, "App", "AROAAPP", ACCOUNT, TRUST)
    with pytest.raises(ServiceError) as refused:
        check_pass_role(ctx(fake, "ecs", "RunTask", {}), f"arn:aws:iam::{ACCOUNT}:role/App", "ecs.amazonaws.com")
    assert refused.value.code == "ValidationError"
    assert refused.value.message == "The role with name App cannot be found."
