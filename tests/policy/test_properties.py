"""Invariants of the evaluation, checked on generated policies and requests (Hypothesis).

* Adding a Deny statement anywhere never turns a denial into an Allow, and keeps an explicit deny explicit.
* Adding an Allow statement anywhere never removes an Allow and never produces an explicit deny.
* A permissions boundary never widens: with a boundary, Allow only if Allow without it.
* The order of statements, and of policies in a list, never changes the decision.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from turnout.policy import Decision, Policy, PolicySet, compile_policy, evaluate, make_request

A, B = "111111111111", "222222222222"
PRINCIPALS = [
    f"arn:aws:iam::{A}:user/alice",
    f"arn:aws:sts::{A}:assumed-role/app/s1",
    f"arn:aws:iam::{B}:user/bob",
    f"arn:aws:iam::{A}:root",
    None,
    "ecs.amazonaws.com",
]
ACTIONS = ["s3:GetObject", "s3:PutObject", "ec2:RunInstances", "iam:PassRole"]
RESOURCES = ["arn:aws:s3:::bucket/key", "arn:aws:s3:::other/key", f"arn:aws:iam::{A}:role/app", "*"]
ACTION_PATTERNS = ["*", "s3:*", "s3:Get*", "ec2:*", "iam:PassRole", "s3:PutObject"]
RESOURCE_PATTERNS = ["*", "arn:aws:s3:::bucket/*", "arn:aws:s3:::*", f"arn:aws:iam::{A}:role/*", "arn:aws:s3:::o?her/*"]
PRINCIPAL_ELEMENTS: list[Any] = ["*", {"AWS": A}, {"AWS": PRINCIPALS[0]}, {"AWS": f"arn:aws:iam::{A}:role/app"},
                                 {"AWS": B}, {"Service": "ecs.amazonaws.com"}]
CONDITIONS: list[dict[str, Any]] = [
    {"StringEquals": {"aws:PrincipalTag/team": "blue"}},
    {"StringNotEquals": {"aws:PrincipalTag/team": "blue"}},
    {"StringLikeIfExists": {"aws:PrincipalTag/team": "b*"}},
    {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}},
    {"Null": {"aws:PrincipalTag/team": "true"}},
]


@st.composite
def statements(draw: st.DrawFn, *, resource_based: bool = False, effect: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    actions = draw(st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=2))
    statement["NotAction" if draw(st.booleans()) and len(actions) == 1 and actions[0] != "*" else "Action"] = actions
    resources = draw(st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2))
    statement["NotResource" if draw(st.integers(0, 4)) == 0 else "Resource"] = resources
    if resource_based:
        key = "NotPrincipal" if draw(st.integers(0, 5)) == 0 else "Principal"
        statement[key] = draw(st.sampled_from(PRINCIPAL_ELEMENTS))
    if draw(st.booleans()):
        statement["Condition"] = draw(st.sampled_from(CONDITIONS))
    return statement


def documents(resource_based: bool = False) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(statements(resource_based=resource_based), min_size=0, max_size=3)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "principal": draw(st.sampled_from(PRINCIPALS)),
        "action": draw(st.sampled_from(ACTIONS)),
        "resource": draw(st.sampled_from(RESOURCES)),
        "resource_account": draw(st.sampled_from([A, B])),
        "context": draw(st.fixed_dictionaries({}, optional={
            "aws:PrincipalTag/team": st.sampled_from(["blue", "red"]),
            "aws:TagKeys": st.lists(st.sampled_from(["a", "b"]), max_size=2),
        })),
        "identity": draw(st.lists(documents(), max_size=2)),
        "resource_policy": draw(st.one_of(st.none(), documents(resource_based=True))),
        "resource_kind": draw(st.sampled_from(["resource", "resource", "trust", "key"])),
        "boundary": draw(st.one_of(st.none(), documents())),
        "session": draw(st.lists(documents(), max_size=1)),
        "scps": draw(st.one_of(st.none(), st.lists(st.lists(documents(), max_size=2), min_size=1, max_size=2))),
    }


def compiled(statements_: list[dict[str, Any]], name: str) -> Policy:
    return compile_policy(json.dumps({"Version": "2012-10-17", "Statement": statements_}), policy_id=name)


def run(scenario: dict[str, Any]) -> Decision:
    request = make_request(scenario["principal"], scenario["action"], scenario["resource"],
                           resource_account=scenario["resource_account"], context=scenario["context"])
    boundary, resource, scps = scenario["boundary"], scenario["resource_policy"], scenario["scps"]
    policies = PolicySet(
        identity=[compiled(doc, f"identity/{i}") for i, doc in enumerate(scenario["identity"])],
        resource=None if resource is None else compiled(resource, "resource"),
        resource_kind=scenario["resource_kind"],
        boundary=None if boundary is None else compiled(boundary, "boundary"),
        session=[compiled(doc, "session") for doc in scenario["session"]],
        scps=None if scps is None else [[compiled(doc, "scp") for doc in level] for level in scps],
    )
    return evaluate(request, policies)


LAYERS = ["identity", "resource_policy", "boundary", "session", "scps"]


def with_statement(scenario: dict[str, Any], layer: str, statement: dict[str, Any]) -> dict[str, Any]:
    """Add a statement to a layer (creating the layer when absent: attaching a boundary, session policy or SCP
    can itself only narrow, so the Allow property below only adds to layers that already exist)."""
    changed = dict(scenario)
    if layer == "identity":
        changed["identity"] = [*scenario["identity"], [statement]]
    elif layer == "session":
        changed["session"] = [[*(scenario["session"][0] if scenario["session"] else []), statement]]
    elif layer == "scps":
        levels = scenario["scps"] or [[]]
        changed["scps"] = [[*level, [statement]] for level in levels]
    else:
        changed[layer] = [*(scenario[layer] or []), statement]
    return changed


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.sampled_from(LAYERS), st.data())
def test_adding_a_deny_never_allows(scenario: dict[str, Any], layer: str, data: st.DataObject) -> None:
    statement = data.draw(statements(resource_based=layer == "resource_policy", effect="Deny"))
    before, after = run(scenario), run(with_statement(scenario, layer, statement))
    if before.effect != "Allow":
        assert after.effect != "Allow"
    if before.effect == "ExplicitDeny":
        assert after.effect == "ExplicitDeny"


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.sampled_from(LAYERS), st.data())
def test_adding_an_allow_never_denies(scenario: dict[str, Any], layer: str, data: st.DataObject) -> None:
    assume(layer in ("identity", "resource_policy") or bool(scenario[layer]))
    statement = data.draw(statements(resource_based=layer == "resource_policy", effect="Allow"))
    before, after = run(scenario), run(with_statement(scenario, layer, statement))
    if before.effect == "Allow":
        assert after.effect == "Allow"
    if before.effect != "ExplicitDeny":
        assert after.effect != "ExplicitDeny"


@settings(max_examples=300, deadline=None)
@given(scenarios(), documents())
def test_a_boundary_never_widens(scenario: dict[str, Any], boundary: list[dict[str, Any]]) -> None:
    without = run({**scenario, "boundary": None})
    bounded = run({**scenario, "boundary": boundary})
    if bounded.effect == "Allow":
        assert without.effect == "Allow"


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_order_never_matters(scenario: dict[str, Any], random: Any) -> None:
    shuffled = {key: value for key, value in scenario.items()}
    for key in ("identity", "session"):
        docs = [random.sample(doc, len(doc)) for doc in scenario[key]]
        shuffled[key] = random.sample(docs, len(docs))
    for key in ("boundary", "resource_policy"):
        if scenario[key] is not None:
            shuffled[key] = random.sample(scenario[key], len(scenario[key]))
    if scenario["scps"] is not None:
        shuffled["scps"] = [random.sample([random.sample(doc, len(doc)) for doc in level], len(level))
                            for level in scenario["scps"]]
    original, reordered = run(scenario), run(shuffled)
    assert (reordered.effect, reordered.denied_by) == (original.effect, original.denied_by)
    assert sorted(reordered.missing_context_keys) == sorted(original.missing_context_keys)


def test_replace_keeps_policy_sets_immutable_in_spirit() -> None:
    policies = PolicySet()
    assert replace(policies, resource_kind="trust").resource_is_trust_policy
    assert not policies.resource_is_trust_policy
