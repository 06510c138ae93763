"""The Principal / NotPrincipal element: normalisation and matching against a request's principal.

Matching returns *how* a statement names the caller, because AWS treats the kinds differently in a
resource-based policy of the caller's own account:

* ``DIRECT``: the caller's own ARN (IAM user, role session, federated user), ``"*"``/``{"AWS": "*"}``, a
  service principal, or a NotPrincipal that excludes the caller. Grants on its own (same account).
* ``ROLE``: the ARN of the role behind a role session (AWS resolves a role ARN to the role's unique id, so it
  covers every session of the role). Grants, but the boundary and session policies still limit it.
* ``ACCOUNT``: an account id or ``arn:aws:iam::ACCOUNT:root``: the account delegates to its own IAM
  policies, so the caller's identity policies must also allow.

An IAM unique id (``AIDA...`` user, ``AROA...`` role) names the principal that carries it, whatever its name is
now: a resource-based policy stores a user or role ARN as the principal's unique id when it is saved (AWS, IAM
User Guide "AWS JSON policy elements: Principal"; facts 2 section 7; see
:mod:`turnout.services.iam.principal_ids`), so a principal deleted and re-created under the same name (a new id)
no longer matches. A user's id is the user; a role's id covers every session of the role (``ROLE``).

A bare ARN string as the Principal (``"Principal": "arn:..."``) is accepted and read as ``{"AWS": ...}``.
Federated and CanonicalUser entries are compared with the request's principal ARN (or service name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from turnout.policy.model import ANONYMOUS, ASSUMED_ROLE, AWS_SERVICE, Request


class MatchKind(IntEnum):
    NONE = 0
    ACCOUNT = 1
    ROLE = 2
    DIRECT = 3


_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROOT_ARN = re.compile(r"^arn:[^:]+:iam::(\d{12}):root$")
_KNOWN_KEYS = {"AWS", "Service", "Federated", "CanonicalUser"}
# The unique ids a Principal can name: users and roles (IAM User Guide, "Unique identifiers").
UNIQUE_ID = re.compile(r"^A(?:IDA|ROA)[A-Z0-9]{12,}$")


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    wildcard: bool
    accounts: frozenset[str]
    arns: frozenset[str]
    services: frozenset[str]
    others: frozenset[str]  # Federated and CanonicalUser entries
    ids: frozenset[str] = frozenset()  # unique ids of IAM users and roles


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return None


NOBODY = PrincipalSpec(False, frozenset(), frozenset(), frozenset(), frozenset())


def compile_principal(element: Any) -> tuple[PrincipalSpec, list[str]]:
    """Normalise a Principal/NotPrincipal element; returns (spec, problems). Unusable entries match nobody."""
    if isinstance(element, str):
        element = {"AWS": element} if element != "*" else {"AWS": "*"}
    if not isinstance(element, dict):
        return NOBODY, [f"invalid principal element {element!r}"]
    problems: list[str] = []
    wildcard = False
    accounts: set[str] = set()
    arns: set[str] = set()
    services: set[str] = set()
    others: set[str] = set()
    unique_ids: set[str] = set()
    for key, value in element.items():
        entries = _strings(value)
        if key not in _KNOWN_KEYS or entries is None:
            problems.append(f"invalid principal {key}: {value!r}")
            continue
        for entry in entries:
            if key == "AWS":
                root = _ROOT_ARN.match(entry)
                if entry == "*":
                    wildcard = True
                elif _ACCOUNT_ID.match(entry):
                    accounts.add(entry)
                elif root:
                    accounts.add(root.group(1))
                elif UNIQUE_ID.match(entry):
                    unique_ids.add(entry)
                else:
                    arns.add(entry)
            elif key == "Service":
                services.add(entry.lower())
            else:
                others.add(entry)
    spec = PrincipalSpec(wildcard, frozenset(accounts), frozenset(arns), frozenset(services), frozenset(others),
                         frozenset(unique_ids))
    return spec, problems


def match_principal(spec: PrincipalSpec, request: Request) -> MatchKind:
    """How ``spec`` names the request's principal (NONE if it does not)."""
    if spec.wildcard:
        return MatchKind.DIRECT
    kind = request.principal_type
    if kind == ANONYMOUS:
        return MatchKind.NONE
    if kind == AWS_SERVICE:
        service = (request.principal_service or request.principal_arn or "").lower()
        return MatchKind.DIRECT if service in spec.services else MatchKind.NONE
    arn = request.principal_arn
    if arn is not None and arn in spec.arns:
        is_role_itself = kind == ASSUMED_ROLE and arn == request.role_arn
        return MatchKind.ROLE if is_role_itself else MatchKind.DIRECT
    if arn is not None and arn in spec.others:
        return MatchKind.DIRECT
    if kind == ASSUMED_ROLE and request.role_arn is not None and request.role_arn in spec.arns:
        return MatchKind.ROLE
    if spec.ids and request.principal_id in spec.ids:
        return MatchKind.ROLE if kind == ASSUMED_ROLE else MatchKind.DIRECT
    if request.principal_account is not None and request.principal_account in spec.accounts:
        return MatchKind.ACCOUNT
    return MatchKind.NONE
