"""The AWS managed policy catalogue: read-only, loaded from ``turnout/data`` on first use, once.

The data file is built by ``tools/build_catalogue.py`` (provenance and licences in ``turnout/data/NOTICE``).
Listed policies keep the order AWS's ``ListPolicies --scope AWS`` returns them in; deprecated policies are not
listed, are not attachable, and (their path being unrecorded) resolve by name under any path.
"""

from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"
DATA_FILE = "aws-managed-policies.json.gz"


@dataclass(frozen=True, slots=True)
class ManagedVersion:
    version_id: str
    created: str  # ISO 8601, UTC
    document: str  # the JSON text GetPolicyVersion returns

    @property
    def create_date(self) -> datetime:
        return datetime.fromisoformat(self.created)


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    name: str
    path: str
    arn: str
    policy_id: str
    default_version_id: str
    attachable: bool
    created: str
    updated: str
    description: str | None
    versions: tuple[ManagedVersion, ...]  # newest first
    deprecated: bool = False
    position: int = -1  # index in the listing order; -1 when not listed

    @property
    def create_date(self) -> datetime:
        return datetime.fromisoformat(self.created)

    @property
    def update_date(self) -> datetime:
        return datetime.fromisoformat(self.updated)

    def version(self, version_id: str) -> ManagedVersion | None:
        for version in self.versions:
            if version.version_id == version_id:
                return version
        return None

    @property
    def default_version(self) -> ManagedVersion:
        found = self.version(self.default_version_id)
        assert found is not None
        return found


class Catalogue:
    """Every AWS managed policy: ``listed`` in AWS's listing order, lookups by ARN."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.listed: list[ManagedPolicy] = []
        self.by_arn: dict[str, ManagedPolicy] = {}
        self.deprecated: dict[str, ManagedPolicy] = {}
        for position, item in enumerate(data["policies"]):
            policy = _policy(item, position)
            self.listed.append(policy)
            self.by_arn[policy.arn] = policy
        for item in data["deprecated"]:
            version = ManagedVersion(item["default"], item["created"], item["document"])
            self.deprecated[item["name"]] = ManagedPolicy(
                name=item["name"], path="/", arn=AWS_POLICY_PREFIX + item["name"], policy_id=item["id"],
                default_version_id=item["default"], attachable=False, created=item["created"],
                updated=item["created"], description=None, versions=(version,), deprecated=True,
            )

    def __len__(self) -> int:
        return len(self.listed)

    def get(self, arn: str) -> ManagedPolicy | None:
        """The policy ``arn`` names, or None. Deprecated policies answer under the path the caller gives."""
        policy = self.by_arn.get(arn)
        if policy is not None or not arn.startswith(AWS_POLICY_PREFIX):
            return policy
        resource = arn[len(AWS_POLICY_PREFIX) - 1:]  # "/<path...>/<name>"
        path, _, name = resource.rpartition("/")
        old = self.deprecated.get(name)
        if old is None:
            return None
        path += "/"
        return ManagedPolicy(
            name=old.name, path=path, arn=arn, policy_id=old.policy_id, default_version_id=old.default_version_id,
            attachable=False, created=old.created, updated=old.updated, description=None,
            versions=old.versions, deprecated=True,
        )


def _policy(item: dict[str, Any], position: int) -> ManagedPolicy:
    versions = tuple(ManagedVersion(v["id"], v["created"], v["document"]) for v in item["versions"])
    return ManagedPolicy(
        name=item["name"],
        path=item["path"],
        arn=f"arn:aws:iam::aws:policy{item['path']}{item['name']}",
        policy_id=item["id"],
        default_version_id=item["default"],
        attachable=item["attachable"],
        created=item["created"],
        updated=item["updated"],
        description=item.get("description"),
        versions=versions,
        position=position,
    )


def is_aws_managed(arn: str) -> bool:
    return arn.startswith(AWS_POLICY_PREFIX)


def load(raw: bytes) -> Catalogue:
    """Build a catalogue from the bytes of a data file (gzip JSON)."""
    return Catalogue(json.loads(gzip.decompress(raw)))


_lock = threading.Lock()
_catalogue: Catalogue | None = None


def catalogue() -> Catalogue:
    """The catalogue, read from the package data on the first call only."""
    global _catalogue
    if _catalogue is None:
        with _lock:
            if _catalogue is None:
                raw = (resources.files("turnout") / "data" / DATA_FILE).read_bytes()
                _catalogue = load(raw)
    return _catalogue
