"""Policy document validation: IAM's MalformedPolicyDocument messages and its size quotas."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout.services.iam import policydoc
from turnout.wire.errors import ServiceError

SEED_TRUST = (
    '{ "Version": "2012-10-17", "Statement": [ { "Sid": "AllowAccessToECSForInfrastructureManagement", '
    '"Effect": "Allow", "Principal": { "Service": "ecs.amazonaws.com" }, "Action": "sts:AssumeRole" } ] }'
)
STATEMENT: dict[str, Any] = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
IDENTITY: dict[str, Any] = {"Version": "2012-10-17", "Statement": [STATEMENT]}


def trust(**statement: Any) -> str:
    base: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"},
                            "Action": "sts:AssumeRole"}
    base.update(statement)
    return json.dumps({"Version": "2012-10-17", "Statement": [{k: v for k, v in base.items() if v is not None}]})


def identity(**statement: Any) -> str:
    base: dict[str, Any] = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    base.update(statement)
    return json.dumps({"Version": "2012-10-17", "Statement": [{k: v for k, v in base.items() if v is not None}]})


def refused(document: str, kind: str, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ServiceError) as info:
        policydoc.check(document, kind, **kwargs)
    return info.value.code, info.value.message, info.value.status


def malformed(document: str, kind: str, **kwargs: Any) -> str:
    code, message, status = refused(document, kind, **kwargs)
    assert (code, status) == ("MalformedPolicyDocument", 400)
    return message


# -- accepted documents --------------------------------------------------------------------------------------


def test_seed_trust_policy_is_accepted_and_returned_parsed() -> None:
    parsed = policydoc.check(SEED_TRUST, "trust")
    assert parsed["Statement"][0]["Principal"] == {"Service": "ecs.amazonaws.com"}


@pytest.mark.parametrize("kind", ["identity", "managed", "boundary"])
def test_identity_policy_is_accepted(kind: str) -> None:
    assert policydoc.check(json.dumps(IDENTITY), kind) == IDENTITY


@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"AWS": "123456789012"},
        {"AWS": "arn:aws:iam::123456789012:root"},
        {"AWS": ["arn:aws:iam::123456789012:role/path/deploy", "arn:aws:iam::123456789012:user/alice"]},
        {"AWS": "arn:aws:sts::123456789012:assumed-role/deploy/session"},
        {"AWS": "AROAABCDEFGHIJKLMNOPQ"},
        {"Service": ["ecs.amazonaws.com", "ecs-tasks.amazonaws.com"]},
        {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
        {"Federated": "cognito-identity.amazonaws.com"},
    ],
)
def test_trust_principals_accepted(principal: Any) -> None:
    policydoc.check(trust(Principal=principal), "trust")


def test_trust_actions_conditions_and_single_statement_object() -> None:
    document = json.dumps({
        "Statement": {
            "Effect": "Allow", "Principal": {"AWS": "123456789012"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {"StringEquals": {"sts:ExternalId": "x"}, "ForAnyValue:StringLikeIfExists": {"aws:a": ["b"]},
                          "Bool": {"aws:MultiFactorAuthPresent": True}, "NumericLessThan": {"aws:n": 3}},
        }
    })
    policydoc.check(document, "trust")


def test_identity_policy_without_version_is_accepted_but_not_as_managed_policy() -> None:
    document = json.dumps({"Statement": IDENTITY["Statement"]})
    policydoc.check(document, "identity")
    assert malformed(document, "managed") == "Policy document must be version 2012-10-17 or greater."
    old = json.dumps({"Version": "2008-10-17", "Statement": IDENTITY["Statement"]})
    policydoc.check(old, "identity")
    assert malformed(old, "managed") == "Policy document must be version 2012-10-17 or greater."


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        policydoc.check(SEED_TRUST, "resource")


# -- JSON and grammar -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["{invalid", "null", "[]", '"text"', "", "{'Version': 1}"])
def test_invalid_json(text: str) -> None:
    assert malformed(text, "trust") == "This policy contains invalid Json"
    assert malformed(text, "identity") == "Syntax errors in policy."


@pytest.mark.parametrize(
    "document",
    [
        {"Version": "2012-10-17", "Statement": [], "Extra": 1},
        {"Version": "2012-10-17"},
        {"Version": "2012-10-17", "Id": 5, "Statement": IDENTITY["Statement"]},
        {"Version": "2012-10-17", "Statement": ["text"]},
        {"Version": "2012-10-17", "Statement": [{**STATEMENT, "Resources": "*"}]},
        {"Version": "2012-10-17", "Statement": [{**STATEMENT, "NotAction": "s3:Put*"}]},
        {"Version": "2012-10-17", "Statement": [{**STATEMENT, "NotResource": "*"}]},
        {"Version": "2012-10-17", "Statement": [{**STATEMENT, "Action": ["s3:a", 5]}]},
        {"Version": "2012-10-17", "Statement": [{**STATEMENT, "Effect": True}]},
        {"Version": "2012-10-17", "Statement": [{**STATEMENT, "Sid": 3}]},
        {"Version": "2012-10-17", "Statement": [{**STATEMENT, "Condition": []}]},
        {"Version": "2012-10-17", "Statement": [{**STATEMENT,
                                                  "Condition": {"aws:SourceIp": "1.2.3.4"}}]},
        {"Version": "2012-10-17", "Statement": [{**STATEMENT,
                                                  "Condition": {"StringEquals": {"aws:a": {"x": 1}}}}]},
    ],
)
def test_syntax_errors(document: dict[str, Any]) -> None:
    assert malformed(json.dumps(document), "identity") == "Syntax errors in policy."


def test_empty_statement_list() -> None:
    assert malformed('{"Version":"2012-10-17","Statement":[]}', "trust") == (
        "Could not parse the policy: Statement is empty!"
    )


@pytest.mark.parametrize("version", ["2012-10-18", "2012-10-17 ", "", 2012])
def test_bad_version(version: Any) -> None:
    document = json.dumps({"Version": version, "Statement": IDENTITY["Statement"]})
    assert malformed(document, "identity") == "The policy failed legacy parsing"


def test_effect() -> None:
    assert malformed(identity(Effect=None), "identity") == "Missing required field Effect"
    assert malformed(identity(Effect="Permit"), "identity") == "Invalid effect: Permit"
    assert malformed(identity(Effect="allow"), "identity") == "The policy failed legacy parsing"
    assert malformed(trust(Effect="Maybe"), "trust") == "Invalid effect: Maybe"


def test_condition_operators() -> None:
    assert malformed(identity(Condition={"stringEquals": {"aws:a": "b"}}), "identity") == (
        "Invalid Condition type : stringEquals"
    )
    assert malformed(identity(Condition={"ForSomeValues:StringEquals": {"aws:a": "b"}}), "identity") == (
        "Invalid Condition type : ForSomeValues:StringEquals"
    )
    assert malformed(identity(Condition={"StringEquals": {"nokey": "b"}}), "identity") == policydoc.NO_VENDOR
    policydoc.check(identity(Condition={"ForAllValues:ArnLikeIfExists": {"aws:PrincipalArn": ["arn:*"]},
                                        "Null": {"aws:TokenIssueTime": "true"}}), "identity")


def test_duplicate_sids() -> None:
    statement = {"Sid": "One", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement, statement]})
    assert malformed(document, "identity") == "Statement IDs (SID) in a single policy must be unique."
    empty = {**statement, "Sid": ""}
    policydoc.check(json.dumps({"Version": "2012-10-17", "Statement": [empty, empty]}), "identity")


def test_sid_must_be_alphanumeric_in_identity_policies() -> None:
    assert malformed(identity(Sid="allow-read"), "identity") == (
        "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression "
        "[0-9A-Za-z]*"
    )


# -- identity policies ----------------------------------------------------------------------------------------


def test_identity_policy_must_not_name_a_principal() -> None:
    for key in ("Principal", "NotPrincipal"):
        assert malformed(identity(**{key: {"AWS": "*"}}), "identity") == (
            "Policy document should not specify a principal."
        )


def test_identity_needs_actions_and_resources() -> None:
    assert malformed(identity(Action=None), "identity") == "Policy statement must contain actions."
    assert malformed(identity(Action=[]), "identity") == "Policy statement must contain actions."
    assert malformed(identity(Resource=None), "identity") == "Policy statement must contain resources."
    assert malformed(identity(Resource=[]), "managed") == "Policy statement must contain resources."
    policydoc.check(identity(Action=None, NotAction="iam:*", Resource=None, NotResource="arn:aws:s3:::b"),
                    "identity")


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("GetObject", policydoc.NO_VENDOR),
        ("s3:Get:Object", "Actions/Condition can contain only one colon."),
        ("s 3:GetObject", "Action vendors must not contain whitespace"),
        ("s3!:GetObject", "Vendor s3! is not valid"),
    ],
)
def test_action_format(action: str, message: str) -> None:
    assert malformed(identity(Action=["s3:PutObject", action]), "identity") == message


@pytest.mark.parametrize("action", ["*", "s3:*", "*:*", "elasticloadbalancing:Describe*", "ec2:Describe?pc"])
def test_action_forms_accepted(action: str) -> None:
    policydoc.check(identity(Action=action), "identity")


def test_resource_format() -> None:
    assert malformed(identity(Resource="my-bucket"), "identity") == 'Resource my-bucket must be in ARN format or "*".'
    assert malformed(identity(Resource="arn::"), "identity") == (
        "Resource vendor must be fully qualified and cannot contain regexes."
    )
    policydoc.check(identity(Resource=["arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*", "*"]), "identity")


# -- trust policies -------------------------------------------------------------------------------------------


def test_trust_policy_elements() -> None:
    assert malformed(trust(Principal=None), "trust") == "Missing required field Principal"
    assert malformed(trust(Principal={}), "trust") == "Missing required field Principal cannot be empty!"
    assert malformed(trust(Resource="*"), "trust") == "Has prohibited field Resource"
    assert malformed(trust(NotResource="*"), "trust") == "AssumeRole policy must not contain resources."
    assert malformed(trust(Action=None), "trust") == "Missing required field Action"
    assert malformed(trust(Action="s3:GetObject"), "trust") == policydoc.STS_ONLY
    assert malformed(trust(Action="*"), "trust") == policydoc.STS_ONLY
    assert malformed(trust(Principal=None, NotPrincipal={"AWS": "*"}), "trust") == (
        "Allow with NotPrincipal is not allowed."
    )
    assert malformed(trust(Effect="Deny", Principal=None, NotPrincipal={"AWS": "*"}), "trust") == (
        "AssumeRole policy must not contain NotPrincipal field."
    )
    assert malformed(trust(Principal="someone"), "trust") == "Principal must be a JSON object."


def test_identity_policy_sent_as_trust_policy_reports_its_resource() -> None:
    # The usual mistake: an identity policy where a trust policy belongs (no Principal, Resource present).
    assert malformed(json.dumps(IDENTITY), "trust") == "Has prohibited field Resource"


@pytest.mark.parametrize(
    ("principal", "shown"),
    [
        ({"Service": "bad"}, '"SERVICE":"bad"'),
        ({"Service": "ECS.amazonaws.com"}, '"SERVICE":"ECS.amazonaws.com"'),
        ({"Service": ["ecs.amazonaws.com", "ecs"]}, '"SERVICE":"ecs"'),
        ({"AWS": "12345"}, '"AWS":"12345"'),
        ({"AWS": "arn:aws:iam::123456789012:policy/x"}, '"AWS":"arn:aws:iam::123456789012:policy/x"'),
        ({"AWS": "alice"}, '"AWS":"alice"'),
        ({"Federated": "not a provider"}, '"FEDERATED":"not a provider"'),
        ({"CanonicalUser": "79a59df900b949e55d96a1e698fbaced"}, '"CANONICALUSER":"79a59df900b949e55d96a1e698fbaced"'),
    ],
)
def test_invalid_principals(principal: dict[str, Any], shown: str) -> None:
    assert malformed(trust(Principal=principal), "trust") == f"Invalid principal in policy: {shown}"


def test_principal_existence_is_asked_for_users_and_roles_only() -> None:
    asked: list[str] = []

    def exists(arn: str) -> bool:
        asked.append(arn)
        return arn.endswith("/alive")

    role = "arn:aws:iam::123456789012:role/alive"
    gone = "arn:aws:iam::123456789012:user/gone"
    policydoc.check(trust(Principal={"AWS": [role, "arn:aws:iam::123456789012:root", "123456789012"]}), "trust",
                    principal_exists=exists)
    assert asked == [role]
    assert malformed(trust(Principal={"AWS": gone}), "trust", principal_exists=exists) == (
        f'Invalid principal in policy: "AWS":"{gone}"'
    )


# -- sizes ----------------------------------------------------------------------------------------------------


def _trust_of_size(size: int) -> str:
    base = trust(Sid="")
    padding = size - policydoc.size_without_whitespace(base)
    assert padding >= 0
    return trust(Sid="A" * padding)


def test_trust_policy_quota_counts_no_whitespace() -> None:
    exact = _trust_of_size(2048)
    assert policydoc.size_without_whitespace(exact) == 2048
    policydoc.check(exact, "trust")
    spaced = exact.replace(",", " ,\n\t ")  # whitespace does not count
    assert len(spaced) > 2048
    policydoc.check(spaced, "trust")
    assert refused(_trust_of_size(2049), "trust") == (
        "LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048", 409,
    )


def test_managed_policy_quota() -> None:
    resources = [f"arn:aws:s3:::bucket-{i:05d}" for i in range(250)]
    document = identity(Resource=resources)
    assert policydoc.size_without_whitespace(document) > 6144
    assert refused(document, "managed") == ("LimitExceeded", "Cannot exceed quota for PolicySize: 6144", 409)
    policydoc.check(document, "identity")  # inline policies are counted in aggregate by the caller


def test_check_size_and_inline_aggregates() -> None:
    policydoc.check_size("x" * 10, "PolicySize", 10)
    with pytest.raises(ServiceError) as info:
        policydoc.check_size("x" * 11, "PolicySize", 10)
    assert (info.value.code, info.value.message, info.value.status) == (
        "LimitExceeded", "Cannot exceed quota for PolicySize: 10", 409,
    )
    for entity_type, limit in (("role", 10240), ("user", 2048), ("group", 5120)):
        half = "x" * (limit // 2)
        policydoc.check_inline_aggregate([half, half, "  \n"], entity_type, "thing")
        with pytest.raises(ServiceError) as info:
            policydoc.check_inline_aggregate([half, half, "y"], entity_type, "thing")
        assert (info.value.code, info.value.message, info.value.status) == (
            "LimitExceeded", f"Maximum policy size of {limit} bytes exceeded for {entity_type} thing", 409,
        )


# -- properties -----------------------------------------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)
_whitespace = st.text(alphabet=" \t\n\r", max_size=4)


@given(_json_values, st.lists(_whitespace, min_size=1, max_size=40))
def test_whitespace_between_tokens_never_changes_the_counted_size(value: Any, gaps: list[str]) -> None:
    compact = json.dumps(value, separators=(",", ":"))
    pieces = [compact[i:i + 3] for i in range(0, len(compact), 3)] or [""]
    # Whitespace inserted anywhere (inside string values too, as IAM ignores every whitespace character).
    spaced = "".join(piece + gaps[i % len(gaps)] for i, piece in enumerate(pieces))
    assert policydoc.size_without_whitespace(spaced) == policydoc.size_without_whitespace(compact)


@given(st.dictionaries(st.text(max_size=6), _json_values, max_size=4))
def test_check_never_fails_other_than_with_an_aws_error(document: dict[str, Any]) -> None:
    for kind in ("trust", "identity", "managed"):
        try:
            policydoc.check(json.dumps(document), kind)
        except ServiceError as exc:
            assert exc.code in ("MalformedPolicyDocument", "LimitExceeded")
            assert exc.status in (400, 409)


@given(st.text(max_size=30))
def test_arbitrary_text_is_refused_or_accepted_cleanly(text: str) -> None:
    try:
        policydoc.check(text, "trust")
    except ServiceError as exc:
        assert exc.code == "MalformedPolicyDocument"


@given(_whitespace, _whitespace)
def test_seed_trust_policy_accepted_with_any_surrounding_whitespace(before: str, after: str) -> None:
    policydoc.check(before + SEED_TRUST + after, "trust")
