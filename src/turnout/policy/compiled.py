"""Statements specialised per policy type and action, so that an evaluation only runs what differs per call.

``entries(policy, policy_type, action_lower)`` gives the statements of a policy whose Action/NotAction element
matches the action (worked out on the first request for that action, then looked up), each as an ``Entry``:

* ``matched``: the ``MatchedStatement`` to report when the statement applies (built once);
* ``deny``: whether its effect is Deny;
* ``resource``: a test of the request's resource string, for a Resource/NotResource element without policy
  variables (None: no test). A compiled regular expression's ``fullmatch`` (the entries folded into one
  alternation), a set's ``__contains__`` or a string's ``__eq__`` when no entry holds a wildcard;
* ``check``: what needs the whole request: a Resource element with policy variables, then the Condition
  element (None: nothing); it appends the condition keys the request lacks to ``missing``;
* ``statement``: the statement itself (its Principal is matched per call by the types that read it).

Statements that cannot apply in that policy type are left out: a NotResource that covers everything, a
Resource whose entries are all rejected, a statement without Principal in a resource-based policy.

The semantics are those of ``statement.applies`` (the reference, written for reading): Action, Resource,
Principal, then Condition, every clause evaluated so that the missing keys are all reported, and an unusable
clause fails an Allow but not a Deny. tests/policy/test_compiled.py checks that both agree on the corpus.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from turnout.policy.conditions.fast import ClauseCheck, compile_clause
from turnout.policy.matching import ERROR, MATCH, NO_MATCH, ResourcePattern, ShortArn, StaticForm, compile_regex
from turnout.policy.model import MatchedStatement, Policy, PolicyType, Request, Statement

ResourceTest = Callable[[str], object]  # truthy when the statement's Resource element lets it apply
Check = Callable[[Request, list[str]], bool]
Entry = tuple[MatchedStatement, bool, ResourceTest | None, Check | None, Statement]

MAX_ACTIONS: Final = 1024  # actions remembered per policy and type; the table starts over beyond that

SHORT_ARN: Final = {
    PolicyType.IDENTITY: ShortArn.PAD,
    PolicyType.SESSION: ShortArn.PAD,
    PolicyType.BOUNDARY: ShortArn.PAD,
    PolicyType.RESOURCE: ShortArn.PAD_IF_WILDCARD,
    PolicyType.TRUST: ShortArn.PAD_IF_WILDCARD,
    PolicyType.ENDPOINT: ShortArn.PAD_IF_WILDCARD,
    PolicyType.SCP: ShortArn.LITERAL,
    PolicyType.RCP: ShortArn.LITERAL,
}
PRINCIPAL_REQUIRED: Final = frozenset({PolicyType.RESOURCE, PolicyType.TRUST})

_NEVER: Final = "never"  # the statement cannot apply in this policy type
_CONDITIONS: Final = "conditions"
ResourceParts = tuple[ResourceTest | None, Callable[[Request], bool] | None]


def entries(policy: Policy, policy_type: PolicyType, action: str) -> tuple[Entry, ...]:
    """The statements of ``policy`` that can apply to ``action`` (lower case) in ``policy_type``, in order."""
    table = policy.tables.get(policy_type)
    if table is None:
        table = policy.tables.setdefault(policy_type, {})
    found = table.get(action)
    if found is None:
        if len(table) >= MAX_ACTIONS:
            table.clear()
        found = table[action] = _build(policy, policy_type, action)
    return found


def _build(policy: Policy, policy_type: PolicyType, action: str) -> tuple[Entry, ...]:
    service = action.partition(":")[0]
    mode = SHORT_ARN[policy_type]
    needs_principal = policy_type in PRINCIPAL_REQUIRED
    out: list[Entry] = []
    for statement in policy.candidates(service):
        if statement.actions.matches(service, action) == statement.not_action:
            continue
        if needs_principal and statement.principal is None:
            continue
        parts = resource_parts(statement, mode)
        if parts is None:
            continue
        test, dynamic = parts
        check = _combine(dynamic, condition_check(statement))
        out.append((_matched(policy, policy_type, statement), statement.effect == "Deny", test, check, statement))
    return tuple(out)


def _matched(policy: Policy, policy_type: PolicyType, statement: Statement) -> MatchedStatement:
    """The statement as reported when it applies: one object per policy type, shared by every action."""
    key = ("matched", policy_type, policy.policy_id)
    found = statement.compiled.get(key)
    if not isinstance(found, MatchedStatement):
        found = statement.compiled[key] = MatchedStatement(
            policy_type, policy.policy_id, statement.index, statement.sid, statement.effect, statement.start,
            statement.end,
        )
    return found


def _combine(dynamic: Callable[[Request], bool] | None, conditions: Check | None) -> Check | None:
    if dynamic is None:
        return conditions
    if conditions is None:
        def resource_only(request: Request, missing: list[str]) -> bool:
            return dynamic(request)
        return resource_only

    def resource_then_conditions(request: Request, missing: list[str]) -> bool:
        return dynamic(request) and conditions(request, missing)

    return resource_then_conditions


# -- Resource / NotResource -------------------------------------------------------------------------------------


def resource_parts(statement: Statement, mode: ShortArn) -> ResourceParts | None:
    """(static test, test needing the request) for the statement's resources read in ``mode``; None: never
    applies. Cached on the statement."""
    key = ("resource", mode)
    cached = statement.compiled.get(key)
    if cached is None:
        cached = statement.compiled[key] = _resource_parts(statement, mode)
    return None if cached is _NEVER else cached  # type: ignore[return-value]


def _resources_state(resources: tuple[ResourcePattern, ...], resource: str, mode: ShortArn, request: Request) -> int:
    state = NO_MATCH
    values = request.values
    for pattern in resources:
        found = pattern.state(resource, mode, values)
        if found == MATCH:
            return MATCH
        if found == ERROR:
            state = ERROR
    return state


def _resource_parts(statement: Statement, mode: ShortArn) -> ResourceParts | str:
    resources = statement.resources
    if resources is None:
        return None, None
    negated = statement.not_resource
    if any(pattern.dynamic for pattern in resources):
        def dynamic(request: Request) -> bool:
            state = _resources_state(resources, request.resource, mode, request)
            return state != ERROR and (state == MATCH) != negated
        return None, dynamic
    if any(pattern.everything for pattern in resources):  # always MATCH
        return _NEVER if negated else (None, None)
    forms = [pattern.static_form(mode) for pattern in resources]
    if negated:
        # Applies only when no entry matches and none is an error: a rejected entry, or one whose mismatch is
        # an error, rules the statement out whatever the resource.
        if any(form.regex is None or form.mismatch_is_error for form in forms):
            return _NEVER
        test = _any_of(forms)

        def outside(resource: str) -> bool:
            return not test(resource)
        return outside, None
    usable = [form for form in forms if form.regex is not None]  # a rejected entry never matches
    if not usable:
        return _NEVER
    return _any_of(usable), None


def _any_of(forms: list[StaticForm]) -> ResourceTest:
    """A test that is truthy when any of the (accepted) entries matches the resource."""
    literals = [form.literal for form in forms if form.literal is not None]
    if len(literals) == len(forms):
        if len(literals) == 1:
            return literals[0].__eq__
        return frozenset(literals).__contains__
    if len(forms) == 1 and forms[0].shape is not None:
        return _around(*forms[0].shape)
    sources = [form.regex.pattern for form in forms if form.regex is not None]
    if len(sources) == 1:
        return compile_regex(sources[0]).fullmatch
    return compile_regex("|".join(f"(?:{source})" for source in sources)).fullmatch


def _around(prefix: str, suffix: str) -> ResourceTest:
    """``prefix*suffix`` where ``*`` matches anything: cheaper as string tests than as a regular expression."""
    if not suffix:
        def starts(resource: str) -> bool:
            return resource.startswith(prefix)
        return starts
    start = len(prefix)  # the suffix is looked for past the prefix: the two may not overlap

    def around(resource: str) -> bool:
        return resource.startswith(prefix) and resource.endswith(suffix, start)

    return around


# -- Condition ---------------------------------------------------------------------------------------------------


def condition_check(statement: Statement) -> Check | None:
    """The Condition element as one function (None: no condition). Cached on the statement."""
    if _CONDITIONS not in statement.compiled:
        statement.compiled[_CONDITIONS] = _condition_check(statement)
    return statement.compiled[_CONDITIONS]  # type: ignore[return-value]


def _condition_check(statement: Statement) -> Check | None:
    clauses = statement.conditions
    if not clauses:
        return None
    checks: list[ClauseCheck] = [compile_clause(clause) for clause in clauses if clause.error is None]
    if len(checks) < len(clauses) and statement.effect == "Allow":
        # An unusable clause never grants; the others still run, for the missing keys they report.
        def unusable(request: Request, missing: list[str]) -> bool:
            for check in checks:
                check(request, missing)
            return False
        return unusable
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]

    def every(request: Request, missing: list[str]) -> bool:
        result = True
        for check in checks:
            if not check(request, missing):
                result = False
        return result

    return every
