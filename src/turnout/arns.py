"""ARNs in AWS's formats, built and read in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def parse(arn: str) -> Arn | None:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


def iam(account: str, kind: str, path: str, name: str) -> str:
    """``arn:aws:iam::<account>:<kind>/<path-without-leading-slash><name>`` (path ``/`` gives ``kind/name``)."""
    return f"arn:aws:iam::{account}:{kind}{path}{name}"


def role(account: str, name: str, path: str = "/") -> str:
    return iam(account, "role", path, name)


def user(account: str, name: str, path: str = "/") -> str:
    return iam(account, "user", path, name)


def group(account: str, name: str, path: str = "/") -> str:
    return iam(account, "group", path, name)


def policy(account: str, name: str, path: str = "/") -> str:
    return iam(account, "policy", path, name)


def aws_managed_policy(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::aws:policy{path}{name}"


def root(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


def assumed_role(account: str, role_name: str, session_name: str) -> str:
    return f"arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"


def federated_user(account: str, name: str) -> str:
    return f"arn:aws:sts::{account}:federated-user/{name}"
