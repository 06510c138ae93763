"""The engine's typed state: steps and progress read from and written to the deployment's ``engine`` JSON column in
the form every earlier version wrote (no migration)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout.deploy import plan as plans
from turnout.deploy.state import ACTIONS, EngineState, HookRun, Step

NOW = datetime(2026, 12, 6, 22, 0, 0, 500, tzinfo=UTC)

# A BLUE_GREEN deployment's state as the engine stored it before the state was typed (lists for steps, ISO text
# for instants, a "failed" counter nothing read).
STORED: dict[str, Any] = {
    "plan": [["PRE_SCALE_UP", "hooks", None], ["SCALE_UP", "scale_up", None], ["SCALE_UP", "await_healthy", None],
             ["PRODUCTION_TRAFFIC_SHIFT", "shift_prod", 100.0], ["BAKE_TIME", "wait", 120.0],
             ["CLEAN_UP", "stop_blue", None], ["CLEAN_UP", "await_stopped", None]],
    "pc": 3,
    "failed": 0,
    "blue": ["arn:tg/blue"],
    "green": ["arn:tg/green"],
    "snapshot": {"arn:rule/1": [{"Type": "forward", "TargetGroupArn": "arn:tg/blue"}]},
    "at": NOW.isoformat(),
    "step_hooks": {"ecs-lambda-1": {"type": "AWS_LAMBDA", "index": 0, "since": NOW.isoformat(), "timeout": 3600.0,
                                    "action": "ROLLBACK", "phase": "wait", "execution": "e-1", "details": {"a": 1},
                                    "next": (NOW + timedelta(seconds=5)).isoformat(), "delay": 30.0}},
    "test_shifted": True,
}


def test_steps_round_trip_as_lists() -> None:
    step = Step("PRODUCTION_TRAFFIC_SHIFT", "shift_prod", 12.5)
    assert step.to_json() == ["PRODUCTION_TRAFFIC_SHIFT", "shift_prod", 12.5]
    assert Step.from_json(step.to_json()) == step
    assert Step.from_json(["CLEAN_UP", "await_stopped", None]) == Step("CLEAN_UP", "await_stopped")
    with pytest.raises(ValueError, match="unknown step teleport"):
        Step.from_json(["CLEAN_UP", "teleport", None])


@given(st.sampled_from(ACTIONS), st.one_of(st.none(), st.floats(min_value=0, max_value=10**6, allow_nan=False)))
def test_any_step_survives_json(action: Any, arg: float | None) -> None:
    step = Step("SCALE_UP", action, arg)
    assert Step.from_json(json.loads(json.dumps(step.to_json()))) == step


def test_state_reads_what_earlier_versions_stored() -> None:
    state = EngineState.from_json(STORED)
    assert state.step == Step("PRODUCTION_TRAFFIC_SHIFT", "shift_prod", 100.0)
    assert state.at == NOW and state.blue == ["arn:tg/blue"] and state.test_shifted and not state.prod_shifted
    assert state.step_hooks is not None
    run = state.step_hooks["ecs-lambda-1"]
    assert run == HookRun(type="AWS_LAMBDA", index=0, since=NOW, timeout=3600.0, action="ROLLBACK", execution="e-1",
                          details={"a": 1}, phase="wait", next=NOW + timedelta(seconds=5), delay=30.0)
    # Written back the same way, but for the counter nothing reads.
    assert state.to_json() == {k: v for k, v in STORED.items() if k != "failed"}
    assert EngineState.from_json(json.loads(json.dumps(state.to_json()))) == state


def test_a_new_deployment_has_an_empty_state() -> None:
    state = EngineState.from_json({})
    assert state == EngineState() and state.step is None and state.to_json() == {}


def test_moving_through_a_plan_forgets_the_step_s_wait_and_hooks() -> None:
    state = EngineState.from_json(STORED)
    state.next_step()
    assert (state.pc, state.at, state.step_hooks) == (4, None, None)
    assert state.step == Step("BAKE_TIME", "wait", 120.0)
    state.begin(plans.rollback_plan_for("BLUE_GREEN", state))
    assert state.pc == 0
    assert [s.action for s in state.plan] == ["restore_test", "hooks", "stop_green", "await_stopped"]
    assert state.to_json()["plan"][0] == ["TEST_TRAFFIC_SHIFT", "restore_test", None]


def test_every_plan_is_chosen_in_one_place() -> None:
    assert plans.forward_plan("BLUE_GREEN", {}, [], reconcile=False) == plans.rolling_plan()
    assert plans.rollback_plan_for("ROLLING", EngineState()) == [Step("SCALE_UP", "rolling_back"),
                                                                Step("CLEAN_UP", "await_stopped")]
    assert plans.rollback_plan_for("CANARY", EngineState()) == [Step("CLEAN_UP", "stop_green"),
                                                               Step("CLEAN_UP", "await_stopped")]
    assert plans.first_stage([]) == "PRE_SCALE_UP"
    assert plans.first_stage(plans.rolling_plan()) == "SCALE_UP"
