"""Helpers of the privilege-escalation suite: policy documents, and an IAM user (the would-be attacker) with an
access key, its own inline policy and clients signed with its key."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from tests.conftest import Server, allow, deny, doc

__all__ = ["allow", "deny", "doc"]  # the policy helpers the suite's modules take from here too

ACCOUNT = "000000000000"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def trust(principal: dict[str, Any] | str) -> str:
    return doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


class Actor:
    """An IAM user of the default account with ``statements`` as its only (inline) policy."""

    def __init__(self, server: Server, iam: Any, name: str, *statements: dict[str, Any],
                 boundary: str | None = None) -> None:
        self.server, self.name = server, name
        extra = {"PermissionsBoundary": boundary} if boundary else {}
        self.arn: str = iam.create_user(UserName=name, **extra)["User"]["Arn"]
        if statements:
            iam.put_user_policy(UserName=name, PolicyName="own", PolicyDocument=doc(*statements))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        self.key, self.secret = key["AccessKeyId"], key["SecretAccessKey"]

    def client(self, service: str) -> Any:
        return self.server.client(service, key=self.key, secret=self.secret)


def session(server: Server, service: str, creds: dict[str, Any]) -> Any:
    return server.client(service, key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                         token=creds["SessionToken"])


def denied(call: Any, *args: Any, **kwargs: Any) -> str:
    """The message of the access denial ``call`` must raise (IAM/STS: AccessDenied 403; ECS:
    AccessDeniedException 400)."""
    try:
        call(*args, **kwargs)
    except ClientError as exc:
        error = exc.response["Error"]
        status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
        assert (error["Code"], status) in {("AccessDenied", 403), ("AccessDeniedException", 400)}, exc.response
        return str(error["Message"])
    raise AssertionError(f"{getattr(call, '__name__', call)} was allowed")
