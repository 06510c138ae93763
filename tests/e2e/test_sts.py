"""STS through boto3: GetCallerIdentity, AssumeRole (durations, chaining, session policies and tags, other
accounts) and GetSessionToken; temporary credentials work for every service.

Roles are assumed by an IAM user allowed sts:AssumeRole (``caller``): AWS refuses AssumeRole to root users. The
roles trust account 000000000000, which delegates to that user's identity policy, in either account."""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Server, assumer, error_of, grant

ACCOUNT_ROOT = "arn:aws:iam::000000000000:root"
TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT_ROOT}, "Action": "sts:AssumeRole"}],
})
# Session tags need sts:TagSession and a source identity sts:SetSourceIdentity, from the trust policy and (as it
# delegates to the account) from the caller's identity policy.
TAGGING = ("sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity")
TAGGING_TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT_ROOT}, "Action": list(TAGGING)}],
})
SESSION_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
})



def as_session(server: Any, service: str, creds: dict[str, Any]) -> Any:
    return server.client(service, key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                         token=creds["SessionToken"])


def make_role(iam: Any, name: str, trust: str = TRUST, **extra: Any) -> dict[str, Any]:
    role: dict[str, Any] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, **extra)["Role"]
    return role


@pytest.fixture
def caller(server: Server, iam: Any, unique: Callable[[str], str]) -> Any:
    """STS as an IAM user of account 000000000000 allowed sts:AssumeRole on every role."""
    return assumer(server, iam, unique)


def identity(client: Any) -> dict[str, str]:
    found = client.get_caller_identity()
    return {k: found[k] for k in ("UserId", "Account", "Arn")}


def test_caller_identity_root_and_user(server: Any, sts: Any, iam: Any, unique: Callable[[str], str]) -> None:
    assert identity(sts) == {
        "UserId": "000000000000", "Account": "000000000000", "Arn": "arn:aws:iam::000000000000:root",
    }
    name = unique("who")
    user = iam.create_user(UserName=name)["User"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    as_user = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert identity(as_user) == {"UserId": user["UserId"], "Account": "000000000000", "Arn": user["Arn"]}


def test_assume_role(server: Any, caller: Any, iam: Any, unique: Callable[[str], str]) -> None:
    role = make_role(iam, unique("assume"), Path="/app/")
    grant(iam, ["iam:GetRole"], role=role["RoleName"])
    started = datetime.now(UTC)
    result = caller.assume_role(RoleArn=role["Arn"], RoleSessionName="deploy-1")
    creds = result["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", creds["AccessKeyId"])
    assert len(creds["SecretAccessKey"]) == 40
    assert creds["SessionToken"]
    expected_expiry = started + timedelta(seconds=3600)
    assert abs(creds["Expiration"] - expected_expiry) < timedelta(seconds=30)
    assumed_arn = f"arn:aws:sts::000000000000:assumed-role/{role['RoleName']}/deploy-1"  # no path
    assert result["AssumedRoleUser"] == {"AssumedRoleId": f"{role['RoleId']}:deploy-1", "Arn": assumed_arn}
    assert "PackedPolicySize" not in result and "SourceIdentity" not in result

    assert identity(as_session(server, "sts", creds)) == {
        "UserId": f"{role['RoleId']}:deploy-1", "Account": "000000000000", "Arn": assumed_arn,
    }
    # Temporary credentials work for every service.
    as_session(server, "iam", creds).get_role(RoleName=role["RoleName"])

    last = iam.get_role(RoleName=role["RoleName"])["Role"]["RoleLastUsed"]
    assert last["Region"] == "us-east-1"
    assert abs(last["LastUsedDate"] - started) < timedelta(seconds=30)


def test_unknown_role_is_access_denied(caller: Any, unique: Callable[[str], str]) -> None:
    who = caller.get_caller_identity()["Arn"]
    arn = f"arn:aws:iam::000000000000:role/{unique('ghost')}"
    assert error_of(caller.assume_role, RoleArn=arn, RoleSessionName="ss") == (
        "AccessDenied", f"User: {who} is not authorized to perform: sts:AssumeRole on resource: {arn}", 403,
    )
    malformed = "arn:aws:iam:000000000000:role/x"
    assert error_of(caller.assume_role, RoleArn=malformed, RoleSessionName="ss")[0] == "AccessDenied"


def test_role_in_another_account(server: Any, caller: Any, unique: Callable[[str], str]) -> None:
    other_iam = server.client("iam", key="111122223333")  # the root of 111122223333, created on first use
    role = make_role(other_iam, unique("xacct"))  # trusts account 000000000000, the caller's
    grant(other_iam, ["iam:GetRole"], role=role["RoleName"])
    assert role["Arn"].startswith("arn:aws:iam::111122223333:role/")
    result = caller.assume_role(RoleArn=role["Arn"], RoleSessionName="cross")
    assert identity(as_session(server, "sts", result["Credentials"])) == {
        "UserId": f"{role['RoleId']}:cross", "Account": "111122223333",
        "Arn": f"arn:aws:sts::111122223333:assumed-role/{role['RoleName']}/cross",
    }
    # The session acts in the role's account.
    as_session(server, "iam", result["Credentials"]).get_role(RoleName=role["RoleName"])


def test_duration_limits(server: Any, caller: Any, iam: Any, unique: Callable[[str], str]) -> None:
    short = make_role(iam, unique("short"))
    assert error_of(caller.assume_role, RoleArn=short["Arn"], RoleSessionName="ss", DurationSeconds=3601) == (
        "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", 400,
    )
    unchecked = assumer(server, iam, unique, parameter_validation=False)
    code, message, _ = error_of(unchecked.assume_role, RoleArn=short["Arn"], RoleSessionName="ss",
                                DurationSeconds=899)
    assert code == "ValidationError"
    assert message.endswith("Member must have value greater than or equal to 900")
    long = make_role(iam, unique("long"), MaxSessionDuration=7200)
    started = datetime.now(UTC)
    creds = caller.assume_role(RoleArn=long["Arn"], RoleSessionName="ss", DurationSeconds=7200)["Credentials"]
    assert abs(creds["Expiration"] - (started + timedelta(seconds=7200))) < timedelta(seconds=30)
    creds = caller.assume_role(RoleArn=long["Arn"], RoleSessionName="ss", DurationSeconds=900)["Credentials"]
    assert abs(creds["Expiration"] - (started + timedelta(seconds=900))) < timedelta(seconds=30)


def test_role_chaining(server: Any, caller: Any, iam: Any, unique: Callable[[str], str]) -> None:
    first = make_role(iam, unique("hop1"), MaxSessionDuration=43200)
    second = make_role(iam, unique("hop2"), MaxSessionDuration=43200)
    grant(iam, ["sts:AssumeRole"], role=first["RoleName"])  # the first role's session assumes the second
    creds = caller.assume_role(RoleArn=first["Arn"], RoleSessionName="one", DurationSeconds=7200)["Credentials"]
    chained = as_session(server, "sts", creds)
    assert error_of(chained.assume_role, RoleArn=second["Arn"], RoleSessionName="two", DurationSeconds=3601) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        400,
    )
    result = chained.assume_role(RoleArn=second["Arn"], RoleSessionName="two", DurationSeconds=3600)
    assert identity(as_session(server, "sts", result["Credentials"]))["Arn"].endswith(
        f":assumed-role/{second['RoleName']}/two"
    )


def test_session_policy(caller: Any, iam: Any, unique: Callable[[str], str]) -> None:
    role = make_role(iam, unique("policy"))
    result = caller.assume_role(RoleArn=role["Arn"], RoleSessionName="pp", Policy=SESSION_POLICY)
    assert 0 < result["PackedPolicySize"] < 100
    code, message, status = error_of(caller.assume_role, RoleArn=role["Arn"], RoleSessionName="pp", Policy="{nope")
    assert (code, status) == ("MalformedPolicyDocument", 400)
    assert message in ("This policy contains invalid Json", "Syntax errors in policy.")  # IAM's two wordings
    too_long = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::b/{'x' * 2100}"},
    ]})
    code, message, _ = error_of(caller.assume_role, RoleArn=role["Arn"], RoleSessionName="pp", Policy=too_long)
    assert code == "ValidationError"
    assert message.endswith("at 'policy' failed to satisfy constraint: Member must have length less than or equal "
                            "to 2048")
    # Fits the plaintext limit, but not the packed allotment (many distinct actions and resources).
    statements = [{"Effect": "Allow", "Action": f"svc{i}:Do{i}",
                   "Resource": f"arn:aws:s3:::{secrets.token_hex(8)}"} for i in range(22)]
    dense = json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":"))
    assert len(dense) <= 2048
    code, message, status = error_of(caller.assume_role, RoleArn=role["Arn"], RoleSessionName="pp", Policy=dense)
    assert (code, status) == ("PackedPolicyTooLarge", 400)
    assert re.fullmatch(r"Packed policy consumes \d+% of allotted space", message)


def test_session_policy_arns(server: Any, caller: Any, iam: Any, unique: Callable[[str], str]) -> None:
    role = make_role(iam, unique("parns"))
    managed = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    result = caller.assume_role(RoleArn=role["Arn"], RoleSessionName="pp", PolicyArns=[{"arn": managed}])
    assert result["PackedPolicySize"] > 0
    own = iam.create_policy(PolicyName=unique("sess"), PolicyDocument=SESSION_POLICY)["Policy"]["Arn"]
    assert caller.assume_role(RoleArn=role["Arn"], RoleSessionName="pp", PolicyArns=[{"arn": own}])["PackedPolicySize"]
    # Managed session policies must be in the role's account (this one trusts the caller's account).
    other_role = make_role(server.client("iam", key="111122223333"), unique("parns-x"))
    assert error_of(caller.assume_role, RoleArn=other_role["Arn"], RoleSessionName="pp", PolicyArns=[{"arn": own}]) == (
        "ValidationError", f"Policy {own} does not exist or is not attachable.", 400,
    )
    missing = "arn:aws:iam::000000000000:policy/not-there"
    assert error_of(caller.assume_role, RoleArn=role["Arn"], RoleSessionName="pp", PolicyArns=[{"arn": missing}]) == (
        "ValidationError", f"Policy {missing} does not exist or is not attachable.", 400,
    )
    eleven = [{"arn": f"arn:aws:iam::aws:policy/P{i}"} for i in range(11)]
    code, message, _ = error_of(caller.assume_role, RoleArn=role["Arn"], RoleSessionName="pp", PolicyArns=eleven)
    assert code == "ValidationError"
    assert message.endswith("at 'policyArns' failed to satisfy constraint: Member must have length less than or "
                            "equal to 10")


def test_session_tags(server: Any, iam: Any, unique: Callable[[str], str]) -> None:
    role = make_role(iam, unique("tags"), TAGGING_TRUST)
    second = make_role(iam, unique("tags2"), TAGGING_TRUST)
    grant(iam, list(TAGGING), role=role["RoleName"])  # its session assumes the second role with tags
    tagger = assumer(server, iam, unique, actions=TAGGING)
    result = tagger.assume_role(
        RoleArn=role["Arn"], RoleSessionName="tt",
        Tags=[{"Key": "Project", "Value": "turnout"}, {"Key": "Team", "Value": "blue"}],
        TransitiveTagKeys=["project"], SourceIdentity="alice@example.com",
    )
    assert 0 < result["PackedPolicySize"] < 100
    assert result["SourceIdentity"] == "alice@example.com"
    chained = as_session(server, "sts", result["Credentials"])
    # A transitive tag passes down the chain and cannot be overridden there; the source identity persists.
    assert error_of(chained.assume_role, RoleArn=second["Arn"], RoleSessionName="t2",
                    Tags=[{"Key": "PROJECT", "Value": "other"}])[0] == "ValidationError"
    # Team was not transitive: it may be set again.
    again = chained.assume_role(RoleArn=second["Arn"], RoleSessionName="t2", Tags=[{"Key": "Team", "Value": "red"}])
    assert again["SourceIdentity"] == "alice@example.com"
    assert again["PackedPolicySize"] > 0

    assert error_of(tagger.assume_role, RoleArn=role["Arn"], RoleSessionName="tt",
                    Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])[0] == "ValidationError"
    assert error_of(tagger.assume_role, RoleArn=role["Arn"], RoleSessionName="tt",
                    Tags=[{"Key": "a", "Value": "1"}], TransitiveTagKeys=["b"])[0] == "ValidationError"
    alphabet = string.ascii_letters + string.digits
    long_tags = [{"Key": "".join(secrets.choice(alphabet) for _ in range(128)),
                  "Value": "".join(secrets.choice(alphabet) for _ in range(256))} for _ in range(50)]
    code, message, _ = error_of(tagger.assume_role, RoleArn=role["Arn"], RoleSessionName="tt", Tags=long_tags)
    assert code == "PackedPolicyTooLarge"
    unchecked = assumer(server, iam, unique, actions=TAGGING, parameter_validation=False)
    code, message, _ = error_of(unchecked.assume_role, RoleArn=role["Arn"], RoleSessionName="tt",
                                Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    assert code == "ValidationError" and "Member must have length less than or equal to 50" in message


def test_session_name_validation(server: Any, caller: Any, iam: Any, unique: Callable[[str], str]) -> None:
    role = make_role(iam, unique("names"))
    code, message, status = error_of(caller.assume_role, RoleArn=role["Arn"], RoleSessionName="bad name")
    assert (code, status) == ("ValidationError", 400)
    assert message == ("1 validation error detected: Value 'bad name' at 'roleSessionName' failed to satisfy "
                       "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")
    unchecked = assumer(server, iam, unique, parameter_validation=False)
    code, message, _ = error_of(unchecked.assume_role, RoleArn=role["Arn"], RoleSessionName="x")
    assert message == ("1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy "
                       "constraint: Member must have length greater than or equal to 2")


def test_get_session_token_for_user(server: Any, iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("gst")
    user = iam.create_user(UserName=name)["User"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user_sts = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    started = datetime.now(UTC)
    creds = user_sts.get_session_token()["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert abs(creds["Expiration"] - (started + timedelta(hours=12))) < timedelta(seconds=30)
    session_sts = as_session(server, "sts", creds)
    assert identity(session_sts) == {"UserId": user["UserId"], "Account": "000000000000", "Arn": user["Arn"]}
    assert error_of(session_sts.get_session_token) == (
        "AccessDenied", "Cannot call GetSessionToken with session credentials", 403,
    )
    creds = user_sts.get_session_token(DurationSeconds=129600)["Credentials"]
    assert abs(creds["Expiration"] - (started + timedelta(hours=36))) < timedelta(seconds=30)
    code, message, _ = error_of(
        server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"], parameter_validation=False)
        .get_session_token, DurationSeconds=129601,
    )
    assert code == "ValidationError" and message.endswith("Member must have value less than or equal to 129600")
    # The session dies with its user.
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=name)
    assert error_of(session_sts.get_caller_identity)[0] == "InvalidClientTokenId"


def test_get_session_token_for_root(server: Any, sts: Any, caller: Any, iam: Any, unique: Callable[[str], str]
                                    ) -> None:
    started = datetime.now(UTC)
    creds = sts.get_session_token(DurationSeconds=7200)["Credentials"]
    # Sessions of the account's root user last at most one hour.
    assert abs(creds["Expiration"] - (started + timedelta(hours=1))) < timedelta(seconds=30)
    assert identity(as_session(server, "sts", creds))["Arn"] == "arn:aws:iam::000000000000:root"
    # A role session cannot get a session token either.
    role = make_role(iam, unique("gst-role"))
    assumed = caller.assume_role(RoleArn=role["Arn"], RoleSessionName="rr")["Credentials"]
    assert error_of(as_session(server, "sts", assumed).get_session_token) == (
        "AccessDenied", "Cannot call GetSessionToken with session credentials", 403,
    )


def test_authentication_operations_need_no_permission(server: Any, iam: Any, unique: Callable[[str], str]) -> None:
    # "No permissions are required" for GetCallerIdentity and GetSessionToken (STS API reference): not even an
    # explicit deny of sts:* stops them, while it does stop AssumeRole.
    name = unique("denied")
    user = iam.create_user(UserName=name)["User"]
    iam.put_user_policy(UserName=name, PolicyName="no-sts", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sts:*", "Resource": "*"}],
    }))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user_sts = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert identity(user_sts)["Arn"] == user["Arn"]
    creds = user_sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert identity(as_session(server, "sts", creds))["Arn"] == user["Arn"]
    role = make_role(iam, unique("closed"))
    assert error_of(user_sts.assume_role, RoleArn=role["Arn"], RoleSessionName="ss") == (
        "AccessDenied",
        f"User: {user['Arn']} is not authorized to perform: sts:AssumeRole on resource: {role['Arn']} with an "
        "explicit deny in an identity-based policy",
        403,
    )
