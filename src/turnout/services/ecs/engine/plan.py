"""A deployment's plan: the steps it takes, in AWS's stage order, as a pure function of its configuration.

A step is ``[stage, action, argument]``. Actions:

* ``hooks``: run the lifecycle hooks configured at the stage (none configured: the step passes at once);
* ``scale_up``: launch the target revision's tasks; ``await_healthy``: until they are running, registered and
  healthy in their target groups;
* ``shift_test``: the test listener rule forwards to green; ``shift_prod`` (argument: green's percent of
  production traffic): the production rule (or listener) becomes a weighted forward over blue and green;
* ``wait`` (argument: simulated seconds): step bake times, the bake time, the Network Load Balancer delay;
* ``stop_blue``/``stop_green``: stop the tasks of the other side; ``await_stopped``: until they are stopped;
* ``restore_prod``/``restore_test``: a rollback's traffic moves back to blue;
* ``rolling``: ROLLING's replacement loop, bounded by minimumHealthyPercent and maximumPercent.

Linear steps: ``k * stepPercent`` for k = 1, 2... capped at 100; canary: ``canaryPercent`` then 100 (AWS:
"two step traffic shift"). The step bake time runs between steps, never after the last one ("This bake time is
not applied after reaching 100 percent traffic"). With a Network Load Balancer, ECS "adds a 10 minute delay" to
TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

Step = list[Any]

NLB_DELAY = 600.0
LINEAR_DEFAULTS = (10.0, 6)  # stepPercent, stepBakeTimeInMinutes (botocore's documented defaults)
CANARY_DEFAULTS = (5.0, 10)  # canaryPercent, canaryBakeTimeInMinutes


def production_steps(strategy: str, config: dict[str, Any]) -> list[float]:
    """Green's share of production traffic after each production shift, in percent."""
    if strategy == "LINEAR":
        linear = config.get("linearConfiguration") or {}
        step = Decimal(str(linear.get("stepPercent", LINEAR_DEFAULTS[0])))
        out, share = [], step
        while share < 100:
            out.append(float(share))
            share += step
        return [*out, 100.0]
    if strategy == "CANARY":
        canary = Decimal(str((config.get("canaryConfiguration") or {}).get("canaryPercent", CANARY_DEFAULTS[0])))
        return [100.0] if canary >= 100 else [float(canary), 100.0]
    return [100.0]


def step_bake_seconds(strategy: str, config: dict[str, Any]) -> float:
    if strategy == "LINEAR":
        return 60.0 * float((config.get("linearConfiguration") or {}).get("stepBakeTimeInMinutes",
                                                                         LINEAR_DEFAULTS[1]))
    if strategy == "CANARY":
        return 60.0 * float((config.get("canaryConfiguration") or {}).get("canaryBakeTimeInMinutes",
                                                                         CANARY_DEFAULTS[1]))
    return 0.0


def bake_seconds(config: dict[str, Any]) -> float:
    """``bakeTimeInMinutes``; absent: 0 (AWS's API reference says it must be given for BLUE_GREEN, CloudFormation
    documents other defaults; which the API applies is not documented: our choice)."""
    return 60.0 * float(config.get("bakeTimeInMinutes") or 0)


def elb_weights(green_percent: float) -> tuple[int, int]:
    """(blue, green) ELB weights (0..999) for green's share: whole percents as they are (70/30), tenths scaled by
    ten (2.5% -> 975/25). How ECS maps its 0.1 granularity onto ELB weights is not documented: our choice."""
    green = Decimal(str(green_percent))
    if green == green.to_integral_value():
        return 100 - int(green), int(green)
    tenths = int(green * 10)
    return 1000 - tenths, tenths


def traffic_plan(strategy: str, config: dict[str, Any], *, reconcile: bool, has_test: bool, nlb: bool) -> list[Step]:
    """The forward plan of a BLUE_GREEN, LINEAR or CANARY deployment."""
    steps: list[Step] = []
    if reconcile:
        steps.append(["RECONCILE_SERVICE", "hooks", None])
    steps += [["PRE_SCALE_UP", "hooks", None], ["SCALE_UP", "scale_up", None], ["SCALE_UP", "await_healthy", None],
              ["POST_SCALE_UP", "hooks", None]]
    if has_test:
        steps.append(["TEST_TRAFFIC_SHIFT", "shift_test", None])
    if nlb:
        steps.append(["TEST_TRAFFIC_SHIFT", "wait", NLB_DELAY])
    steps += [["TEST_TRAFFIC_SHIFT", "hooks", None], ["POST_TEST_TRAFFIC_SHIFT", "hooks", None]]
    shares = production_steps(strategy, config)
    bake_between = step_bake_seconds(strategy, config)
    for index, share in enumerate(shares):
        steps += [["PRE_PRODUCTION_TRAFFIC_SHIFT", "hooks", None], ["PRODUCTION_TRAFFIC_SHIFT", "shift_prod", share]]
        if nlb:
            steps.append(["PRODUCTION_TRAFFIC_SHIFT", "wait", NLB_DELAY])
        steps.append(["PRODUCTION_TRAFFIC_SHIFT", "hooks", None])
        if index < len(shares) - 1 and bake_between > 0:
            steps.append(["PRODUCTION_TRAFFIC_SHIFT", "wait", bake_between])
    steps += [["POST_PRODUCTION_TRAFFIC_SHIFT", "hooks", None], ["BAKE_TIME", "wait", bake_seconds(config)],
              ["CLEAN_UP", "stop_blue", None], ["CLEAN_UP", "await_stopped", None]]
    return steps


def rollback_plan(*, test_shifted: bool, prod_shifted: bool) -> list[Step]:
    """A traffic deployment's rollback: production back to blue, then test traffic, each stage's hooks re-run
    ("When a rollback occurs, Amazon ECS re-invokes hooks registered at the PRODUCTION_TRAFFIC_SHIFT and
    TEST_TRAFFIC_SHIFT stages"), then green's tasks stop. Traffic that never moved is not touched."""
    steps: list[Step] = []
    if prod_shifted:
        steps += [["PRODUCTION_TRAFFIC_SHIFT", "restore_prod", None], ["PRODUCTION_TRAFFIC_SHIFT", "hooks", None]]
    if test_shifted:
        steps += [["TEST_TRAFFIC_SHIFT", "restore_test", None], ["TEST_TRAFFIC_SHIFT", "hooks", None]]
    return [*steps, ["CLEAN_UP", "stop_green", None], ["CLEAN_UP", "await_stopped", None]]


def rolling_plan() -> list[Step]:
    return [["SCALE_UP", "rolling", None], ["CLEAN_UP", "await_stopped", None]]
