"""Every denied request's decision, kept by request id, so that any AccessDenied can be explained later.

A denial records the principal, action and resource, the policy type that decided, the statements that
matched (policy id, statement index and Sid, line and column in the document), the condition keys the request
did not carry, the outcome of each policy type, the request context and the full message sent to the caller.
:func:`explain` reads it back by the request id the caller received (``x-amzn-RequestId``).

The table is bounded: only the newest :data:`KEEP` denials of each account are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..policy import Decision, Request
from ..store import denials
from ..store.db import Database

KEEP = 10_000


@dataclass(frozen=True, slots=True)
class MatchedInfo:
    """A statement that applied to the denied request."""

    policy_type: str  # AWS's wording: "identity-based policy", "permissions boundary"...
    policy_id: str
    statement_index: int
    sid: str | None
    effect: str
    start: tuple[int, int] | None  # (line, column), 1-based
    end: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class Denial:
    request_id: str
    account_id: str
    denied_at: str  # ISO 8601
    principal_arn: str | None
    action: str
    resource: str
    effect: str  # ImplicitDeny | ExplicitDeny
    denied_by: str | None  # the policy type that decided; None for a built-in rule (see ``reason``)
    error_code: str
    message: str
    operation: str = ""
    matched: list[MatchedInfo] = field(default_factory=list)
    missing_context_keys: list[str] = field(default_factory=list)
    type_decisions: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    considered: dict[str, list[str]] = field(default_factory=dict)  # policy ids evaluated, by policy type

    def describe(self) -> str:
        """A few lines for a human: what was denied, by what, and which statements applied."""
        lines = [self.message, f"  request {self.request_id} ({self.operation or self.action}) at {self.denied_at}"]
        decided = self.denied_by or self.reason or "a built-in rule"
        kind = "explicit deny" if self.effect == "ExplicitDeny" else "implicit deny (no statement allowed it)"
        lines.append(f"  decided by: {decided}: {kind}")
        for policy_type, outcome in self.type_decisions.items():
            ids = self.considered.get(policy_type)
            evaluated = f" ({', '.join(ids) if ids else 'no policies'})" if ids is not None else ""
            lines.append(f"  {policy_type}: {outcome}{evaluated}")
        for item in self.matched:
            where = f" at line {item.start[0]}, column {item.start[1]}" if item.start else ""
            sid = f" (Sid {item.sid})" if item.sid else ""
            lines.append(
                f"  matched: {item.effect} statement {item.statement_index}{sid} of {item.policy_type} "
                f"{item.policy_id}{where}"
            )
        if self.missing_context_keys:
            lines.append(f"  condition keys absent from the request: {', '.join(self.missing_context_keys)}")
        return "\n".join(lines)


def denial_of(
    request_id: str,
    account_id: str,
    when: datetime,
    request: Request,
    decision: Decision,
    *,
    error_code: str,
    message: str,
    operation: str = "",
    considered: dict[str, list[str]] | None = None,
) -> Denial:
    matched = [
        MatchedInfo(
            str(m.policy_type), m.policy_id, m.statement_index, m.sid, m.effect,
            (m.start.line, m.start.column) if m.start else None, (m.end.line, m.end.column) if m.end else None,
        )
        for m in decision.matched
    ]
    return Denial(
        request_id=request_id,
        account_id=account_id,
        denied_at=when.isoformat(),
        principal_arn=request.principal_arn,
        action=request.action,
        resource=request.resource,
        effect=decision.effect,
        denied_by=str(decision.denied_by) if decision.denied_by is not None else None,
        error_code=error_code,
        message=message,
        operation=operation,
        matched=matched,
        missing_context_keys=sorted(set(decision.missing_context_keys)),
        type_decisions={str(k): v for k, v in decision.type_decisions.items()},
        reason=decision.reason,
        context={key: _plain(value) for key, value in request.context.items()},
        considered=considered or {},
    )


def _plain(value: object) -> str | list[str]:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return [str(item) for item in value]
    return str(value)


def save(db: Database, denial: Denial, keep: int = KEEP) -> None:
    """Store one denial (again for the same request id: replaced) and drop the account's oldest beyond ``keep``."""
    detail = {
        "operation": denial.operation,
        "matched": [
            {"policy_type": m.policy_type, "policy_id": m.policy_id, "statement_index": m.statement_index,
             "sid": m.sid, "effect": m.effect, "start": m.start, "end": m.end}
            for m in denial.matched
        ],
        "missing_context_keys": denial.missing_context_keys,
        "type_decisions": denial.type_decisions,
        "reason": denial.reason,
        "context": denial.context,
        "considered": denial.considered,
    }
    denials.save(db, denials.StoredDenial(
        denial.request_id, denial.account_id, denial.denied_at, denial.principal_arn, denial.action,
        denial.resource, denial.effect, denial.denied_by, denial.error_code, denial.message, detail,
    ), keep)


def _pair(value: Any) -> tuple[int, int] | None:
    return (int(value[0]), int(value[1])) if value else None


def explain(db: Database, request_id: str) -> Denial | None:
    """The recorded denial of ``request_id``, or None (the request was allowed, or its record was dropped)."""
    row = denials.get(db, request_id)
    return None if row is None else _denial(row)


def of_principals(db: Database, account: str, principals: list[str]) -> list[Denial]:
    """The account's recent denials of any of ``principals``, oldest first (a failed deployment's explanation)."""
    return [_denial(row) for row in denials.of_principals(db, account, principals)]


def _denial(row: denials.StoredDenial) -> Denial:
    detail = row.detail
    return Denial(
        request_id=row.request_id,
        account_id=row.account_id,
        denied_at=row.denied_at,
        principal_arn=row.principal_arn,
        action=row.action,
        resource=row.resource,
        effect=row.effect,
        denied_by=row.denied_by,
        error_code=row.error_code,
        message=row.message,
        operation=detail.get("operation", ""),
        matched=[
            MatchedInfo(m["policy_type"], m["policy_id"], m["statement_index"], m["sid"], m["effect"],
                        _pair(m["start"]), _pair(m["end"]))
            for m in detail.get("matched", [])
        ],
        missing_context_keys=list(detail.get("missing_context_keys", [])),
        type_decisions=dict(detail.get("type_decisions", {})),
        reason=detail.get("reason"),
        context=dict(detail.get("context", {})),
        considered={k: list(v) for k, v in detail.get("considered", {}).items()},
    )
