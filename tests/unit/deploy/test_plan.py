"""The deployment plan: stages in AWS's order, linear and canary steps, ELB weights."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from turnout.deploy.plan import (
    elb_weights,
    production_steps,
    rollback_plan,
    step_bake_seconds,
    traffic_plan,
)
from turnout.deploy.state import Step
from turnout.services.ecs.model import STAGES

tenths = st.integers(min_value=1, max_value=1000).map(lambda n: float(Decimal(n) / 10))


def test_linear_steps_as_aws_documents() -> None:
    # "10% steps -> 10/90, 20/80, 30/70 ... until 100"
    assert production_steps("LINEAR", {"linearConfiguration": {"stepPercent": 10.0}}) == [
        10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]
    assert production_steps("LINEAR", {"linearConfiguration": {"stepPercent": 33.3}}) == [33.3, 66.6, 99.9, 100.0]
    assert production_steps("LINEAR", {}) == production_steps("LINEAR", {"linearConfiguration": {"stepPercent": 10}})
    assert production_steps("CANARY", {"canaryConfiguration": {"canaryPercent": 5.0}}) == [5.0, 100.0]
    assert production_steps("CANARY", {}) == [5.0, 100.0]
    assert production_steps("BLUE_GREEN", {}) == [100.0]
    assert step_bake_seconds("LINEAR", {}) == 360.0 and step_bake_seconds("CANARY", {}) == 600.0


@given(tenths.filter(lambda p: p >= 3.0))
def test_linear_steps_rise_to_exactly_100(step: float) -> None:
    shares = production_steps("LINEAR", {"linearConfiguration": {"stepPercent": step}})
    assert shares[-1] == 100.0
    assert all(a < b for a, b in pairwise(shares))
    assert all(Decimal(str(s)) * 10 == int(Decimal(str(s)) * 10) for s in shares)  # tenths, no float drift


@given(tenths)
def test_elb_weights_carry_the_share(share: float) -> None:
    blue, green = elb_weights(share)
    assert 0 <= blue <= 999 and 0 <= green <= 999
    assert Decimal(green) / (blue + green) * 100 == Decimal(str(share))


@given(st.sampled_from(["BLUE_GREEN", "LINEAR", "CANARY"]), st.booleans(), st.booleans(), st.booleans())
def test_plan_follows_aws_stage_order(strategy: str, reconcile: bool, has_test: bool, nlb: bool) -> None:
    steps = traffic_plan(strategy, {"bakeTimeInMinutes": 2}, reconcile=reconcile, has_test=has_test, nlb=nlb)
    order = [STAGES.index(step.stage) for step in steps]
    # Stages never go back, except PRE_PRODUCTION/PRODUCTION_TRAFFIC_SHIFT repeating once per production step.
    backs = [(a, b) for a, b in pairwise(order) if b < a]
    assert all(STAGES[a] == "PRODUCTION_TRAFFIC_SHIFT" and STAGES[b] == "PRE_PRODUCTION_TRAFFIC_SHIFT"
               for a, b in backs)
    assert ("RECONCILE_SERVICE" in {step.stage for step in steps}) == reconcile
    assert any(step.action == "shift_test" for step in steps) == has_test
    assert [step.arg for step in steps if step.action == "shift_prod"] == production_steps(strategy, {})
    assert (steps[-1].stage, steps[-1].action) == ("CLEAN_UP", "await_stopped")
    assert Step("BAKE_TIME", "wait", 120.0) in steps


def test_rollback_touches_only_what_moved() -> None:
    assert [s.action for s in rollback_plan(test_shifted=False, prod_shifted=False)] == ["stop_green", "await_stopped"]
    moved = rollback_plan(test_shifted=True, prod_shifted=True)
    assert [s.stage for s in moved if s.action == "hooks"] == ["PRODUCTION_TRAFFIC_SHIFT", "TEST_TRAFFIC_SHIFT"]
    assert [s.action for s in moved][:3] == ["restore_prod", "hooks", "restore_test"]
