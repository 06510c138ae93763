"""Inline policies of roles, users and groups through boto3, with IAM's aggregate size quotas."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import error_of

TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})


def document(action: str = "s3:GetObject", resources: int = 0, indent: int | None = None) -> str:
    resource: Any = [f"arn:aws:s3:::bucket-{i:05d}/*" for i in range(resources)] if resources else "*"
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]},
        indent=indent,
    )


def size(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())



@pytest.fixture
def entities(iam: Any, unique: Callable[[str], str]) -> dict[str, str]:
    names = {"Role": unique("irole"), "User": unique("iuser"), "Group": unique("igroup")}
    iam.create_role(RoleName=names["Role"], AssumeRolePolicyDocument=TRUST)
    iam.create_user(UserName=names["User"])
    iam.create_group(GroupName=names["Group"])
    return names


def operations(iam: Any, kind: str) -> tuple[Callable[..., Any], ...]:
    low = kind.lower()
    return (getattr(iam, f"put_{low}_policy"), getattr(iam, f"get_{low}_policy"),
            getattr(iam, f"delete_{low}_policy"), getattr(iam, f"list_{low}_policies"))


@pytest.mark.parametrize("kind", ["Role", "User", "Group"])
def test_put_get_list_delete(iam: Any, entities: dict[str, str], kind: str) -> None:
    put, get, delete, listing = operations(iam, kind)
    name = entities[kind]
    key = f"{kind}Name"
    put(**{key: name, "PolicyName": "zeta", "PolicyDocument": document("s3:GetObject")})
    put(**{key: name.upper(), "PolicyName": "Alpha", "PolicyDocument": document("s3:PutObject", indent=2)})
    put(**{key: name, "PolicyName": "mid", "PolicyDocument": document("s3:ListBucket")})
    got = get(**{key: name.upper(), "PolicyName": "Alpha"})
    assert got[key] == name and got["PolicyName"] == "Alpha"
    assert got["PolicyDocument"] == json.loads(document("s3:PutObject"))

    names = listing(**{key: name})
    assert names["PolicyNames"] == ["Alpha", "mid", "zeta"] and names["IsTruncated"] is False
    page = listing(**{key: name, "MaxItems": 2})
    assert page["PolicyNames"] == ["Alpha", "mid"] and page["IsTruncated"] is True
    assert listing(**{key: name, "Marker": page["Marker"]})["PolicyNames"] == ["zeta"]

    # Putting a policy under an existing name replaces its document.
    put(**{key: name, "PolicyName": "zeta", "PolicyDocument": document("s3:DeleteObject")})
    assert get(**{key: name, "PolicyName": "zeta"})["PolicyDocument"]["Statement"][0]["Action"] == "s3:DeleteObject"
    assert listing(**{key: name})["PolicyNames"] == ["Alpha", "mid", "zeta"]

    delete(**{key: name, "PolicyName": "mid"})
    assert listing(**{key: name})["PolicyNames"] == ["Alpha", "zeta"]
    missing = ("NoSuchEntity", f"The {kind.lower()} policy with name mid cannot be found.", 404)
    assert error_of(get, **{key: name, "PolicyName": "mid"}) == missing
    assert error_of(delete, **{key: name, "PolicyName": "mid"}) == missing


@pytest.mark.parametrize("kind", ["Role", "User", "Group"])
def test_unknown_entity_and_bad_documents(iam: Any, entities: dict[str, str], kind: str,
                                          unique: Callable[[str], str]) -> None:
    put, get, delete, listing = operations(iam, kind)
    key = f"{kind}Name"
    missing = unique("ghost")
    expected = ("NoSuchEntity", f"The {kind.lower()} with name {missing} cannot be found.", 404)
    assert error_of(put, **{key: missing, "PolicyName": "p", "PolicyDocument": document()}) == expected
    assert error_of(get, **{key: missing, "PolicyName": "p"}) == expected
    assert error_of(delete, **{key: missing, "PolicyName": "p"}) == expected
    assert error_of(listing, **{key: missing}) == expected
    code, _, status = error_of(put, **{key: entities[kind], "PolicyName": "p", "PolicyDocument": "{not json"})
    assert (code, status) == ("MalformedPolicyDocument", 400)
    assert listing(**{key: entities[kind]})["PolicyNames"] == []
    assert error_of(put, **{key: entities[kind], "PolicyName": "bad name", "PolicyDocument": document()})[
        0] == "ValidationError"


@pytest.mark.parametrize(("kind", "quota"), [("Role", 10240), ("User", 2048), ("Group", 5120)])
def test_aggregate_size_quota(iam: Any, entities: dict[str, str], kind: str, quota: int) -> None:
    put, _, delete, listing = operations(iam, kind)
    name, key = entities[kind], f"{kind}Name"
    per_resource = size(document(resources=2)) - size(document(resources=1))
    base = size(document(resources=1)) - per_resource
    first = document(resources=(quota // 2 - base) // per_resource)
    assert quota // 2 - per_resource < size(first) <= quota // 2
    put(**{key: name, "PolicyName": "first", "PolicyDocument": first})
    put(**{key: name, "PolicyName": "first", "PolicyDocument": first})  # replacing does not count twice
    fits = document(resources=(quota - size(first) - base) // per_resource, indent=8)  # whitespace is free
    assert size(first) + size(fits) <= quota < len(first) + len(fits)
    put(**{key: name, "PolicyName": "second", "PolicyDocument": fits})
    too_big = document(resources=(quota - size(first) - base) // per_resource + 1)
    assert error_of(put, **{key: name, "PolicyName": "second", "PolicyDocument": too_big}) == (
        "LimitExceeded", f"Maximum policy size of {quota} bytes exceeded for {kind.lower()} {name}", 409,
    )
    assert error_of(put, **{key: name, "PolicyName": "third", "PolicyDocument": document()})[0] == "LimitExceeded"
    assert listing(**{key: name})["PolicyNames"] == ["first", "second"]
    delete(**{key: name, "PolicyName": "first"})
    put(**{key: name, "PolicyName": "third", "PolicyDocument": document()})
    assert listing(**{key: name})["PolicyNames"] == ["second", "third"]
