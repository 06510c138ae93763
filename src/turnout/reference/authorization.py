"""The AWS Service Authorization Reference for the services Turnout serves, as data.

For each service prefix: its actions (access level, resource types with ``required``, per-action condition keys),
its resource types (ARN templates with ``${Partition}``/``${Region}``/``${Account}``/``${...}`` placeholders and
their condition keys) and its condition keys with their types. Loaded once, lazily, from
``turnout/data/service-authorization.json.gz`` (built by ``tools/build_authz_reference.py``; provenance in
``turnout/data/NOTICE``)::

    action = catalog().action("iam", "GetRole")
    role = catalog().resource_type("iam", "role")
    role.build({"RoleNameWithPath": "app/r1"}, account="123456789012")   # arn:aws:iam::123456789012:role/app/r1
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

DATA_FILE = "service-authorization.json.gz"
PARTITION = "aws"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")
# Placeholders filled from the request's environment rather than its parameters.
ENVIRONMENT = frozenset({"Partition", "Region", "Account"})


@dataclass(frozen=True, slots=True)
class ResourceType:
    """A resource type: its ARN template and the condition keys that apply to resources of the type."""

    service: str
    name: str
    arn: str
    condition_keys: tuple[str, ...]
    placeholders: tuple[str, ...]  # in template order, environment ones included
    pattern: re.Pattern[str] = field(repr=False, compare=False)

    def build(self, values: Mapping[str, str], *, account: str, region: str = "",
              partition: str = PARTITION) -> str:
        """The template with its placeholders filled; ``KeyError`` for a placeholder ``values`` lacks."""
        env = {"Partition": partition, "Region": region, "Account": account}
        return _PLACEHOLDER.sub(lambda m: env[m.group(1)] if m.group(1) in env else values[m.group(1)], self.arn)

    def matches(self, arn: str) -> bool:
        return self.pattern.fullmatch(arn) is not None

    @property
    def parameters(self) -> tuple[str, ...]:
        """The placeholders a request has to supply (all but partition, region and account)."""
        return tuple(p for p in self.placeholders if p not in ENVIRONMENT)


@dataclass(frozen=True, slots=True)
class ActionResource:
    """One resource-type row of an action. ``required`` is the reference's ``*``."""

    resource_type: str
    required: bool
    condition_keys: tuple[str, ...]
    dependent_actions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Action:
    """An IAM action. ``condition_keys`` are the keys of the row without a resource type (the request's)."""

    service: str
    name: str
    access_level: str
    resources: tuple[ActionResource, ...]
    condition_keys: tuple[str, ...]
    dependent_actions: tuple[str, ...] = ()

    @property
    def qualified(self) -> str:
        return f"{self.service}:{self.name}"

    @property
    def required_types(self) -> tuple[str, ...]:
        return tuple(r.resource_type for r in self.resources if r.required)

    @property
    def resource_types(self) -> tuple[str, ...]:
        return tuple(r.resource_type for r in self.resources)

    def row(self, resource_type: str) -> ActionResource | None:
        for entry in self.resources:
            if entry.resource_type == resource_type:
                return entry
        return None


@dataclass(frozen=True, slots=True)
class ServiceReference:
    prefix: str
    name: str
    url: str
    actions: Mapping[str, Action]
    resource_types: Mapping[str, ResourceType]
    condition_types: Mapping[str, str]  # condition key -> String | ArrayOfString | ARN | Bool | Numeric | ...
    _actions_lower: Mapping[str, Action] = field(repr=False, compare=False)

    def action(self, name: str) -> Action | None:
        """The action ``name``, matched case-insensitively as IAM matches action names."""
        found = self.actions.get(name)
        return found if found is not None else self._actions_lower.get(name.lower())


class Catalog:
    """The reference for every prefix in the data file."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        if data.get("format") != 1:
            raise ValueError(f"unsupported service authorization data format {data.get('format')!r}")
        self.source: Mapping[str, Any] = data["source"]
        self.services: dict[str, ServiceReference] = {
            prefix: _service(prefix, entry) for prefix, entry in data["services"].items()
        }

    def service(self, prefix: str) -> ServiceReference | None:
        return self.services.get(prefix.lower())

    def action(self, prefix: str, name: str) -> Action | None:
        service = self.service(prefix)
        return service.action(name) if service is not None else None

    def action_named(self, qualified: str) -> Action | None:
        """``"iam:GetRole"`` -> the action, or None."""
        prefix, _, name = qualified.partition(":")
        return self.action(prefix, name)

    def resource_type(self, prefix: str, name: str) -> ResourceType | None:
        service = self.service(prefix)
        return service.resource_types.get(name) if service is not None else None

    def condition_type(self, key: str) -> str | None:
        """The type of a service condition key (``"iam:PassedToService"`` -> ``"String"``), or None."""
        service = self.service(key.partition(":")[0])
        if service is None:
            return None
        found = service.condition_types.get(key)
        if found is not None:
            return found
        # ``iam:ResourceTag/Owner`` is the key ``iam:ResourceTag/${TagKey}``.
        head, slash, _ = key.partition("/")
        return service.condition_types.get(f"{head}/${{TagKey}}") if slash else None


def template_pattern(template: str) -> re.Pattern[str]:
    """A regex for the concrete ARNs of a template. Partition: ``[^:]+``; region and account: ``[^:]*``; the
    last placeholder and the ``...WithPath``/``...Path`` ones (which hold slashes): ``.+``; others: ``[^:/]+``."""
    parts: list[str] = []
    position = 0
    found = list(_PLACEHOLDER.finditer(template))
    for index, match in enumerate(found):
        parts.append(re.escape(template[position:match.start()]))
        name = match.group(1)
        if name == "Partition":
            parts.append("[^:]+")
        elif name in ("Region", "Account"):
            parts.append("[^:]*")
        elif index == len(found) - 1 or name.endswith("Path"):
            parts.append(".+")
        else:
            parts.append("[^:/]+")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts))


def _service(prefix: str, entry: Mapping[str, Any]) -> ServiceReference:
    types = {
        name: ResourceType(
            service=prefix,
            name=name,
            arn=spec["arn"],
            condition_keys=tuple(spec["keys"]),
            placeholders=tuple(_PLACEHOLDER.findall(spec["arn"])),
            pattern=template_pattern(spec["arn"]),
        )
        for name, spec in entry["resources"].items()
    }
    actions = {
        name: Action(
            service=prefix,
            name=name,
            access_level=spec["access"],
            resources=tuple(
                ActionResource(row[0], bool(row[1]), tuple(row[2]), tuple(row[3])) for row in spec["resources"]
            ),
            condition_keys=tuple(spec["keys"]),
            dependent_actions=tuple(spec.get("dependent", ())),
        )
        for name, spec in entry["actions"].items()
    }
    return ServiceReference(
        prefix=prefix,
        name=entry["name"],
        url=entry["url"],
        actions=actions,
        resource_types=types,
        condition_types=dict(entry["conditions"]),
        _actions_lower={name.lower(): action for name, action in actions.items()},
    )


_lock = threading.Lock()
_catalog: Catalog | None = None


def load(raw: bytes) -> Catalog:
    """A catalog from the bytes of a data file (gzip JSON)."""
    return Catalog(json.loads(gzip.decompress(raw)))


def catalog() -> Catalog:
    """The shipped reference, read once."""
    global _catalog
    found = _catalog
    if found is not None:
        return found
    with _lock:
        if _catalog is None:
            _catalog = load((resources.files("turnout") / "data" / DATA_FILE).read_bytes())
        return _catalog
