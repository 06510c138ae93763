"""The smallest policy change that allows what was refused, as JSON ready to paste.

``turnout doctor`` and ``turnout explain`` print fixes with these builders, so that both give the same advice in
the same shape: an identity-policy statement that allows the refused actions on the exact resources (narrowed by
the conditions the request carried), or a trust-policy statement that lets a service principal assume a role
(scoped with ``aws:SourceAccount``/``aws:SourceArn``, as AWS recommends against the confused deputy).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

VERSION = "2012-10-17"

Conditions = Mapping[str, Mapping[str, str | Sequence[str]]]


def _one_or_many(values: Sequence[str]) -> str | list[str]:
    unique = list(dict.fromkeys(values))
    return unique[0] if len(unique) == 1 else unique


def _conditions(conditions: Conditions) -> dict[str, dict[str, str | list[str]]]:
    return {
        operator: {key: value if isinstance(value, str) else _one_or_many(value) for key, value in keys.items()}
        for operator, keys in conditions.items()
        if keys
    }


def _statement(sid: str | None, body: Mapping[str, Any], condition: Mapping[str, Any] | None = None
               ) -> dict[str, Any]:
    """A statement in the order the fixes print: ``Sid`` (when given), ``body``, ``Condition`` (when not empty)."""
    statement: dict[str, Any] = {"Sid": sid} if sid else {}
    statement.update(body)
    if condition:
        statement["Condition"] = dict(condition)
    return statement


def allow_statement(actions: Sequence[str], resources: Sequence[str], conditions: Conditions | None = None,
                    sid: str | None = None) -> dict[str, Any]:
    """An ``Allow`` of ``actions`` on ``resources`` (each listed once, in order), under ``conditions``."""
    body = {"Effect": "Allow", "Action": _one_or_many(actions), "Resource": _one_or_many(resources)}
    return _statement(sid, body, _conditions(conditions or {}))


def _assume(principal: Mapping[str, str], sid: str | None, condition: Mapping[str, Any] | None = None
            ) -> dict[str, Any]:
    """A trust-policy statement letting ``principal`` (``{"Service": ...}`` or ``{"AWS": ...}``) call
    ``sts:AssumeRole``, under ``condition``."""
    return _statement(sid, {"Effect": "Allow", "Principal": dict(principal), "Action": "sts:AssumeRole"}, condition)


def trust_statement(service: str, *, source_account: str | None = None, source_arn: str | None = None,
                    sid: str | None = None) -> dict[str, Any]:
    """A trust-policy statement letting the service principal ``service`` call ``sts:AssumeRole``, scoped to the
    account and resource it acts for when they are given."""
    condition: dict[str, dict[str, str]] = {}
    if source_account:
        condition["StringEquals"] = {"aws:SourceAccount": source_account}
    if source_arn:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return _assume({"Service": service}, sid, condition)


def principal_trust_statement(principal_arn: str, *, sid: str | None = None) -> dict[str, Any]:
    """A trust-policy statement letting the IAM user or role ``principal_arn`` call ``sts:AssumeRole``."""
    return _assume({"AWS": principal_arn}, sid)


def policy_document(statements: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A whole policy document holding ``statements``."""
    return {"Version": VERSION, "Statement": [dict(statement) for statement in statements]}


def render(document: Mapping[str, Any]) -> str:
    """A document (or statement) as indented JSON, as the IAM console shows policies."""
    return json.dumps(document, indent=2)
