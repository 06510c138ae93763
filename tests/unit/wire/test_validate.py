"""Model validation with AWS's wording (``turnout.wire.validate``), on the real IAM, STS and CloudTrail models."""

from __future__ import annotations

from typing import Any

import pytest

from turnout.wire.models import SERVICES
from turnout.wire.validate import compile_pattern, show, validate

NAME_PATTERN = r"[\w+=,.@-]+"
TAG_KEY = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+"
TAG_VALUE = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"
DOC = '{"Version":"2012-10-17","Statement":[]}'


def check(service: str, operation: str, params: dict[str, Any]) -> str | None:
    return validate(SERVICES[service].model.operation_model(operation).input_shape, params)


def role(**extra: Any) -> dict[str, Any]:
    return {"RoleName": "app-role", "AssumeRolePolicyDocument": DOC, **extra}


def test_valid_input_and_operations_without_input() -> None:
    assert check("iam", "CreateRole", role(Tags=[{"Key": "team", "Value": "ünïcödé 漢字"}])) is None
    assert validate(None, {}) is None
    assert check("sts", "GetCallerIdentity", {}) is None


def test_pattern() -> None:
    assert check("iam", "CreateRole", role(RoleName="bad name!")) == (
        "1 validation error detected: Value 'bad name!' at 'roleName' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {NAME_PATTERN}"
    )


def test_word_characters_are_ascii_as_in_java() -> None:
    message = check("iam", "GetRole", {"RoleName": "rolé"})
    assert message == (
        "1 validation error detected: Value 'rolé' at 'roleName' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {NAME_PATTERN}"
    )


def test_length() -> None:
    name = "r" * 65
    assert check("iam", "CreateRole", role(RoleName=name)) == (
        f"1 validation error detected: Value '{name}' at 'roleName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64"
    )
    assert check("iam", "CreateRole", role(RoleName="r" * 64)) is None


def test_pattern_and_length_of_one_value_are_two_errors_pattern_first() -> None:
    name = " " * 65
    assert check("iam", "CreateRole", role(RoleName=name)) == (
        f"2 validation errors detected: Value '{name}' at 'roleName' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {NAME_PATTERN}; "
        f"Value '{name}' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64"
    )


def test_missing_required_members_in_model_order() -> None:
    assert check("iam", "GetRole", {}) == (
        "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null"
    )
    assert check("iam", "CreateRole", {"Description": "d"}) == (
        "2 validation errors detected: "
        "Value null at 'roleName' failed to satisfy constraint: Member must not be null; "
        "Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null"
    )


def test_enum() -> None:
    assert check("iam", "UpdateAccessKey", {"AccessKeyId": "AKIAEXAMPLEEXAMPLE12", "Status": "Enabled"}) == (
        "1 validation error detected: Value 'Enabled' at 'status' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Active, Inactive, Expired]"
    )


@pytest.mark.parametrize(
    ("value", "wording"),
    [(0, "greater than or equal to 1"), (1001, "less than or equal to 1000")],
)
def test_numeric_range(value: int, wording: str) -> None:
    assert check("iam", "ListRoles", {"MaxItems": value}) == (
        f"1 validation error detected: Value '{value}' at 'maxItems' failed to satisfy constraint: "
        f"Member must have value {wording}"
    )
    assert check("iam", "ListRoles", {"MaxItems": 1000}) is None


def test_sts_duration_range() -> None:
    params = {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "session", "DurationSeconds": 899}
    assert check("sts", "AssumeRole", params) == (
        "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900"
    )


def test_nested_list_paths() -> None:
    tags = [{"Key": "ok", "Value": "v"}, {"Key": "", "Value": "x" * 257}]
    assert check("iam", "CreateRole", role(Tags=tags)) == (
        "3 validation errors detected: "
        f"Value '' at 'tags.2.member.key' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {TAG_KEY}; "
        "Value '' at 'tags.2.member.key' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1; "
        f"Value '{'x' * 257}' at 'tags.2.member.value' failed to satisfy constraint: "
        "Member must have length less than or equal to 256"
    )


def test_unicode_categories_in_tag_patterns() -> None:
    assert check("iam", "TagRole", {"RoleName": "r", "Tags": [{"Key": "Ünïcode 漢字 ٣", "Value": "v é"}]}) is None
    assert check("iam", "TagRole", {"RoleName": "r", "Tags": [{"Key": "bad#key", "Value": "v"}]}) == (
        "1 validation error detected: Value 'bad#key' at 'tags.1.member.key' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {TAG_KEY}"
    )


def test_list_length_shows_the_list() -> None:
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    message = check("iam", "TagRole", {"RoleName": "r", "Tags": tags})
    assert message is not None
    assert message.startswith("1 validation error detected: Value '[{Key=k0, Value=v}, {Key=k1, Value=v}, ")
    assert message.endswith(
        "' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
    )


def test_list_of_scalars_is_reported_once_with_all_member_constraints() -> None:
    assert check("iam", "UntagRole", {"RoleName": "r", "TagKeys": ["ok", "bad#", ""]}) == (
        "1 validation error detected: Value '[ok, bad#, ]' at 'tagKeys' failed to satisfy constraint: "
        "Member must satisfy constraint: [Member must have length less than or equal to 128, "
        "Member must have length greater than or equal to 1, "
        f"Member must satisfy regular expression pattern: {TAG_KEY}]"
    )
    assert check("iam", "UntagRole", {"RoleName": "r", "TagKeys": ["ok", "also ok"]}) is None


def test_map_keys_then_values() -> None:
    properties = {"1bad": "", "Good": "v"}
    assert check("iam", "PutAccountProperties", {"Properties": properties}) == (
        "2 validation errors detected: Value '{1bad=, Good=v}' at 'properties' failed to satisfy constraint: "
        "Map keys must satisfy constraint: [Member must have length less than or equal to 50, "
        "Member must have length greater than or equal to 1, "
        "Member must satisfy regular expression pattern: ^[A-Za-z][A-Za-z0-9/_-]*$]; "
        "Value '{1bad=, Good=v}' at 'properties' failed to satisfy constraint: "
        "Map value must satisfy constraint: [Member must have length less than or equal to 1024, "
        "Member must have length greater than or equal to 1]"
    )


def test_sensitive_values_are_not_echoed() -> None:
    assert check("iam", "CreateLoginProfile", {"UserName": "u", "Password": "x" * 129}) == (
        "1 validation error detected: Value at 'password' failed to satisfy constraint: "
        "Member must have length less than or equal to 128"
    )


def test_count_covers_every_error_and_the_message_lists_ten() -> None:
    tags = [{"Key": "", "Value": "v"} for _ in range(6)]
    message = check("iam", "TagRole", {"RoleName": "r", "Tags": tags})
    assert message is not None
    assert message.startswith("12 validation errors detected: ")
    assert message.count("failed to satisfy constraint") == 10


def test_values_of_the_wrong_type_are_left_to_the_parser() -> None:
    assert check("iam", "ListRoles", {"MaxItems": "5", "PathPrefix": 7}) is None


def test_java_patterns_translate() -> None:
    xml_chars = compile_pattern(r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*")
    assert xml_chars is not None
    assert xml_chars.fullmatch("emoji \U0001f642 and tab\t")
    assert xml_chars.fullmatch("control \x01") is None
    assert compile_pattern(r"\p{L}+").fullmatch("Ωmega")  # type: ignore[union-attr]
    assert compile_pattern("[unclosed") is None


def test_show_renders_like_java() -> None:
    assert show(["a", 1, True]) == "[a, 1, true]"
    assert show({"k": ["v"]}) == "{k=[v]}"
