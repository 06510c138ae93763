"""IAM login profiles (console passwords) and the other credential lists a user's deletion walks through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Server, error_of, grant


def test_login_profile_lifecycle(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("console")
    iam.create_user(UserName=name)
    assert error_of(iam.get_login_profile, UserName=name) == (
        "NoSuchEntity", f"Login Profile for User {name} cannot be found.", 404)
    created = iam.create_login_profile(UserName=name, Password="Correct-Horse-9", PasswordResetRequired=True)
    profile = created["LoginProfile"]
    assert (profile["UserName"], profile["PasswordResetRequired"]) == (name, True)
    assert "Password" not in profile
    assert error_of(iam.create_login_profile, UserName=name, Password="Another-Horse-9") == (
        "EntityAlreadyExists", f"Login Profile for user {name} already exists.", 409)

    got = iam.get_login_profile(UserName=name)["LoginProfile"]
    assert got == {"UserName": name, "CreateDate": profile["CreateDate"], "PasswordResetRequired": True}

    iam.update_login_profile(UserName=name, PasswordResetRequired=False, MaxSigninSessionDuration=7200)
    got = iam.get_login_profile(UserName=name)["LoginProfile"]
    assert (got["PasswordResetRequired"], got["MaxSigninSessionDuration"]) == (False, 7200)
    iam.update_login_profile(UserName=name, Password="Brand-New-Horse-1", ResetMaxSigninSessionDuration=True)
    assert "MaxSigninSessionDuration" not in iam.get_login_profile(UserName=name)["LoginProfile"]

    assert error_of(iam.delete_user, UserName=name) == (
        "DeleteConflict", "Cannot delete entity, must delete login profile first.", 409)
    iam.delete_login_profile(UserName=name)
    assert error_of(iam.delete_login_profile, UserName=name) == (
        "NoSuchEntity", f"Login Profile for User {name} cannot be found.", 404)
    iam.delete_user(UserName=name)


def test_passwords_follow_the_default_policy(iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("weak")
    iam.create_user(UserName=name)
    code, message, status = error_of(iam.create_login_profile, UserName=name, Password="Ab1!")
    assert (code, status) == ("PasswordPolicyViolation", 400)
    assert "minimum length of 8" in message
    # Three of uppercase, lowercase, numbers and symbols.
    assert error_of(iam.create_login_profile, UserName=name, Password="alllowercase1")[0] == "PasswordPolicyViolation"
    assert error_of(iam.get_login_profile, UserName=name)[0] == "NoSuchEntity"  # nothing half-written
    iam.create_login_profile(UserName=name, Password="lower-and-1-digit")
    assert error_of(iam.update_login_profile, UserName=name, Password="short")[0] == "PasswordPolicyViolation"
    iam.delete_login_profile(UserName=name)
    iam.delete_user(UserName=name)


def test_missing_user(iam: Any, unique: Callable[[str], str]) -> None:
    ghost = unique("ghost")
    missing = ("NoSuchEntity", f"The user with name {ghost} cannot be found.", 404)
    assert error_of(iam.create_login_profile, UserName=ghost, Password="Correct-Horse-9") == missing
    assert error_of(iam.get_login_profile, UserName=ghost) == missing
    assert error_of(iam.list_ssh_public_keys, UserName=ghost) == missing
    assert error_of(iam.list_mfa_devices, UserName=ghost) == missing
    assert error_of(iam.list_signing_certificates, UserName=ghost) == missing
    assert error_of(iam.list_service_specific_credentials, UserName=ghost) == missing


def test_credential_lists_of_a_user(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("lists")
    iam.create_user(UserName=name)
    assert iam.list_ssh_public_keys(UserName=name)["SSHPublicKeys"] == []
    assert iam.list_mfa_devices(UserName=name)["MFADevices"] == []
    assert iam.list_signing_certificates(UserName=name)["Certificates"] == []
    assert iam.list_service_specific_credentials(UserName=name)["ServiceSpecificCredentials"] == []
    assert iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"] == []
    # Without UserName: the calling user's own (the provider's configured user), here through its keys.
    grant(iam, ["iam:ListMFADevices", "iam:GetLoginProfile"], user=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    own = server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert own.list_mfa_devices()["MFADevices"] == []
    assert error_of(own.get_login_profile) == (
        "NoSuchEntity", f"Login Profile for User {name} cannot be found.", 404)
