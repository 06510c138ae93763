"""Compile a policy document once: normalise statements, precompile patterns, index by service, find positions.

``compile_policy`` is cached by the exact document text (and policy id). Problems that AWS would reject at
upload time are recorded in ``Policy.errors`` / ``Statement.errors`` instead of raising, so the engine can
still evaluate what it was given: an unusable Action/Resource entry matches nothing, a statement without a
valid Effect or Action is dropped, and an unusable condition clause is handled at evaluation (see
``statement.py``). Only text that is not JSON (or not a JSON object) raises ``PolicySyntaxError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from turnout.policy.conditions import compile_conditions
from turnout.policy.matching import ResourcePattern, compile_actions, compile_resource
from turnout.policy.model import Effect, Policy, Position, Statement
from turnout.policy.positions import statement_spans
from turnout.policy.principals import PrincipalSpec, compile_principal
from turnout.wire import jsontext

CACHE_SIZE = 4096


class PolicySyntaxError(ValueError):
    """The document is not a JSON object."""


def compile_policy(document: str | Mapping[str, Any], policy_id: str = "policy") -> Policy:
    """Compile a policy from its JSON text (cached by text) or from an already-parsed mapping (no positions)."""
    if isinstance(document, str):
        return _compile_text(document, policy_id)
    return _build(dict(document), policy_id, [])


@lru_cache(maxsize=CACHE_SIZE)
def _compile_text(text: str, policy_id: str) -> Policy:
    try:
        parsed = jsontext.loads(text)
    except ValueError as exc:
        raise PolicySyntaxError(f"policy {policy_id} is not valid JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise PolicySyntaxError(f"policy {policy_id} is not a JSON object")
    return _build(parsed, policy_id, statement_spans(text))


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return list(value)
    return None


def _pick(raw: Mapping[str, Any], positive: str, negative: str, problems: list[str]) -> tuple[Any, bool, bool]:
    """(value, negated, present) for a Positive/NotPositive element pair."""
    if positive in raw and negative in raw:
        problems.append(f"both {positive} and {negative}")
    if positive in raw:
        return raw[positive], False, True
    if negative in raw:
        return raw[negative], True, True
    return None, False, False


def _statement(raw: Any, index: int, span: tuple[Position, Position] | None) -> tuple[Statement | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [f"statement {index}: not an object"]
    problems: list[str] = []
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        return None, [f"statement {index}: invalid Effect {effect!r}"]
    action_value, not_action, has_action = _pick(raw, "Action", "NotAction", problems)
    actions = _strings(action_value)
    if not has_action or actions is None:
        return None, [f"statement {index}: missing or invalid Action/NotAction"]
    matcher, action_problems = compile_actions(actions)
    problems.extend(action_problems)
    resources: tuple[ResourcePattern, ...] | None = None
    resource_value, not_resource, has_resource = _pick(raw, "Resource", "NotResource", problems)
    if has_resource:
        texts = _strings(resource_value)
        if texts is None:
            problems.append("invalid Resource/NotResource")
            texts = []
        resources = tuple(compile_resource(text) for text in texts)
    principal: PrincipalSpec | None = None
    principal_value, not_principal, has_principal = _pick(raw, "Principal", "NotPrincipal", problems)
    if has_principal:
        principal, principal_problems = compile_principal(principal_value)
        problems.extend(principal_problems)
    conditions, condition_problems = compile_conditions(raw.get("Condition"))
    problems.extend(condition_problems)
    sid = raw.get("Sid")
    statement = Statement(
        index=index,
        sid=sid if isinstance(sid, str) else None,
        effect=_effect(effect),
        actions=matcher,
        not_action=not_action,
        resources=resources,
        not_resource=not_resource,
        principal=principal if has_principal else None,
        not_principal=not_principal,
        conditions=conditions,
        start=span[0] if span else None,
        end=span[1] if span else None,
        errors=tuple(f"statement {index}: {problem}" for problem in problems),
    )
    return statement, list(statement.errors)


def _effect(value: str) -> Effect:
    return "Allow" if value == "Allow" else "Deny"


def _index(statements: tuple[Statement, ...]) -> tuple[dict[str, tuple[Statement, ...]], tuple[Statement, ...]]:
    always = tuple(st for st in statements if st.not_action or st.actions.everything)
    services: dict[str, list[Statement]] = {}
    for statement in statements:
        if statement.not_action or statement.actions.everything:
            continue
        for service in statement.actions.services:
            services.setdefault(service, []).append(statement)
    by_service = {
        service: tuple(sorted([*named, *always], key=lambda st: st.index)) for service, named in services.items()
    }
    return by_service, always


def _build(parsed: dict[str, Any], policy_id: str, spans: list[tuple[Position, Position]]) -> Policy:
    errors: list[str] = []
    raw_statements = parsed.get("Statement")
    if raw_statements is None:
        errors.append("missing Statement")
        raw_statements = []
    elif not isinstance(raw_statements, list):
        raw_statements = [raw_statements]
    if len(spans) != len(raw_statements):
        spans = []
    statements: list[Statement] = []
    for index, raw in enumerate(raw_statements):
        statement, problems = _statement(raw, index, spans[index] if spans else None)
        errors.extend(problems)
        if statement is not None:
            statements.append(statement)
    version = parsed.get("Version")
    compiled = tuple(statements)
    by_service, always = _index(compiled)
    return Policy(
        policy_id=policy_id,
        statements=compiled,
        version=version if isinstance(version, str) else None,
        errors=tuple(errors),
        by_service=by_service,
        always=always,
    )
