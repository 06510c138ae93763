"""IAM users and roles named in resource-based policies, bound to their unique ids when the policy is saved.

AWS (IAM User Guide, "AWS JSON policy elements: Principal", sections "IAM role principals" and "IAM user
principals"; facts 2 section 7): a role or user ARN named as a principal is transformed to that principal's unique
id (``AROA...``, ``AIDA...``) when the policy is saved, and shown back as the ARN. Once the principal is deleted
the policy shows the unique id, and a principal re-created under the same name (a new id) does not match until the
ARN is put back. The page words it for trust policies; Turnout binds S3 bucket policies the same way (that S3
stores the id too is not confirmed by AWS's documentation).

Turnout keeps two texts of such a policy:

* the document *as written*, shown back byte for byte while every bound principal still exists under its ARN;
* the *saved form* (:func:`bind`): the same JSON with each bound ARN replaced by the unique id. It is what the
  policy engine evaluates: an id names the caller whose unique id it is (``Request.principal_id``), so matching
  stays a set lookup and the saved form is compiled and cached like any stored document (no look-up per call).

:func:`render` turns the saved form back into what GetRole, GetAccountAuthorizationDetails and GetBucketPolicy
answer: live ids become their principal's current ARN, dead ones stay ids. Only the ``AWS`` entries of
``Principal`` / ``NotPrincipal`` are bound; ARNs in conditions (``aws:PrincipalArn``) stay text, as in AWS.
A principal that does not exist is refused when the policy is saved (IAM and S3: "Invalid principal in policy"),
unless its account is one Turnout has never seen: such an ARN stays text (nothing to bind to).

The only module that looks IAM users and roles up by unique id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ...policy.principals import UNIQUE_ID
from ...store import accounts
from ...store.db import Database
from .store import roles as role_store
from .store import users as user_store

_ENTITY_ARN = re.compile(r"^arn:[^:]+:iam::(\d{12}):(user|role)/(?:[^/]*/)*([^/]+)$")
_BY_NAME = {"user": user_store.arn_and_id, "role": role_store.arn_and_id}
_BY_ID = {"AIDA": user_store.arn_of_id, "AROA": role_store.arn_of_id}


def _map_entries(document: Any, change: Callable[[str], str]) -> Any:
    """``document`` with ``change`` applied to every ``AWS`` principal entry (a new object; shapes kept)."""
    if not isinstance(document, dict):
        return document
    statements = document.get("Statement")
    if isinstance(statements, dict):
        return {**document, "Statement": _statement(statements, change)}
    if isinstance(statements, list):
        return {**document, "Statement": [_statement(s, change) for s in statements]}
    return document


def _statement(statement: Any, change: Callable[[str], str]) -> Any:
    if not isinstance(statement, dict):
        return statement
    out = dict(statement)
    for key in ("Principal", "NotPrincipal"):
        element = statement.get(key)
        if isinstance(element, str):  # a bare string is read as {"AWS": ...}
            out[key] = element if element == "*" else change(element)
        elif isinstance(element, dict) and "AWS" in element:
            entries = element["AWS"]
            if isinstance(entries, str):
                entries = entries if entries == "*" else change(entries)
            elif isinstance(entries, list):
                entries = [change(e) if isinstance(e, str) and e != "*" else e for e in entries]
            out[key] = {**element, "AWS": entries}
    return out


def unique_id_of(db: Database, arn: str) -> str | None:
    """The unique id of the IAM user or role ``arn`` names (its ARN compared case-insensitively, path included,
    as IAM validates principals); None if there is none."""
    found = _ENTITY_ARN.match(arn)
    if found is None:
        return None
    account, kind, name = found.groups()
    found_entity = _BY_NAME[kind](db, account, name)
    if found_entity is None or found_entity[0].lower() != arn.lower():
        return None
    return found_entity[1]


def arn_of_id(db: Database, unique_id: str) -> str | None:
    """The current ARN of the user or role whose unique id is ``unique_id``; None once it is deleted."""
    lookup = _BY_ID.get(unique_id[:4])
    return None if lookup is None else lookup(db, unique_id)


def bind(db: Database, written: str) -> str | None:
    """The saved form of a validated resource-based policy: its IAM user and role principal ARNs replaced by
    their unique ids. None when the document names no existing user or role (the written text is evaluated)."""
    try:
        document = json.loads(written)
    except ValueError:
        return None
    bound = False

    def to_id(entry: str) -> str:
        nonlocal bound
        found = unique_id_of(db, entry)
        if found is None:
            return entry
        bound = True
        return found

    saved = _map_entries(document, to_id)
    return json.dumps(saved) if bound else None


def principal_exists(db: Database, arn: str, account: str) -> bool:
    """For validating a policy of ``account``: False when ``arn`` names an IAM user or role that does not exist,
    in ``account`` or in another account Turnout holds (IAM and S3 refuse such a principal, "Invalid principal in
    policy"). An account Turnout has never seen is not Turnout's to judge."""
    found = _ENTITY_ARN.match(arn)
    if found is None:
        return True
    if found.group(1) != account and not accounts.exists(db, found.group(1)):
        return True
    return unique_id_of(db, arn) is not None


def missing(db: Database, written: str, account: str) -> list[str]:
    """The IAM user and role ARNs the policy of ``account`` names as AWS principals that do not exist (see
    :func:`principal_exists`)."""
    try:
        document = json.loads(written)
    except ValueError:
        return []
    absent: list[str] = []

    def check(entry: str) -> str:
        if not principal_exists(db, entry, account):
            absent.append(entry)
        return entry

    _map_entries(document, check)
    return absent


def render(db: Database, written: str, saved: str | None) -> str:
    """What the policy reads as now: ``written`` while every bound principal exists under the same ARN; otherwise
    the saved form with live ids turned back into current ARNs and the ids of deleted principals left as they
    are (AWS: "the policy shows the unique id")."""
    if saved is None:
        return written
    return _render(written, saved, lambda unique_id: arn_of_id(db, unique_id))


class Renderer:
    """:func:`render` for the many policies of one request (GetAccountAuthorizationDetails, ListRoles): each unique
    id is looked up once, each (written, saved) pair is worked out once. Lives for one request only, as the
    principals it has seen may change with the next one."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._arns: dict[str, str | None] = {}
        self._shown: dict[tuple[str, str], str] = {}

    def _arn_of_id(self, unique_id: str) -> str | None:
        if unique_id not in self._arns:
            self._arns[unique_id] = arn_of_id(self.db, unique_id)
        return self._arns[unique_id]

    def __call__(self, written: str, saved: str | None) -> str:
        if saved is None:
            return written
        key = (written, saved)
        shown = self._shown.get(key)
        if shown is None:
            shown = self._shown[key] = _render(written, saved, self._arn_of_id)
        return shown


def _render(written: str, saved: str, arn_of: Callable[[str], str | None]) -> str:
    try:
        document = json.loads(saved)
    except ValueError:
        return written

    def to_arn(entry: str) -> str:
        if not UNIQUE_ID.match(entry):
            return entry
        return arn_of(entry) or entry

    shown = _map_entries(document, to_arn)
    try:
        if shown == json.loads(written):
            return written
    except ValueError:
        pass
    return json.dumps(shown)


def bind_saved_before(db: Database) -> int:
    """Bind the trust policies of roles saved before migration 0032 (no saved form yet): run at start-up, so
    that a database from an earlier Turnout stops matching its principals by name. A principal deleted and
    re-created before the upgrade is bound to the one that exists now (the old id is not known). Returns how
    many roles got a saved form."""
    bound = 0
    with db.transaction():
        for account, name_lower, trust_policy in role_store.unbound_trust_policies(db):
            saved = bind(db, trust_policy)
            if saved is not None:
                role_store.set_trust_policy_saved(db, account, name_lower, saved)
                bound += 1
    return bound

