"""A deployment's plan: the steps it takes, in AWS's stage order, as a pure function of its configuration.

A step is a :class:`~.state.Step` (stage, action, argument; stored as ``[stage, action, argument]``). Actions:

* ``hooks``: run the lifecycle hooks configured at the stage (none configured: the step passes at once);
* ``scale_up``: launch the target revision's tasks; ``await_healthy``: until they are running, registered and
  healthy in their target groups;
* ``shift_test``: the test listener rule forwards to green; ``shift_prod`` (argument: green's percent of
  production traffic): the production rule (or listener) becomes a weighted forward over blue and green;
* ``wait`` (argument: simulated seconds): step bake times, the bake time, the Network Load Balancer delay;
* ``stop_blue``/``stop_green``: stop the tasks of the other side; ``await_stopped``: until they are stopped;
* ``restore_prod``/``restore_test``: a rollback's traffic moves back to blue;
* ``rolling``: ROLLING's replacement loop, bounded by minimumHealthyPercent and maximumPercent;
  ``rolling_back``: the same loop back to the previous revision.

Every plan a deployment runs is chosen here: :func:`forward_plan` when it starts, :func:`rollback_plan_for` when
it rolls back.

Linear steps: ``k * stepPercent`` for k = 1, 2... capped at 100; canary: ``canaryPercent`` then 100 (AWS:
"two step traffic shift"). The step bake time runs between steps, never after the last one ("This bake time is
not applied after reaching 100 percent traffic"). With a Network Load Balancer, ECS "adds a 10 minute delay" to
TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..services.ecs.model import TRAFFIC_STRATEGIES
from .state import EngineState, Step
from .traffic import Pair, is_nlb

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
        steps.append(Step("RECONCILE_SERVICE", "hooks"))
    steps += [Step("PRE_SCALE_UP", "hooks"), Step("SCALE_UP", "scale_up"), Step("SCALE_UP", "await_healthy"),
              Step("POST_SCALE_UP", "hooks")]
    if has_test:
        steps.append(Step("TEST_TRAFFIC_SHIFT", "shift_test"))
    if nlb:
        steps.append(Step("TEST_TRAFFIC_SHIFT", "wait", NLB_DELAY))
    steps += [Step("TEST_TRAFFIC_SHIFT", "hooks"), Step("POST_TEST_TRAFFIC_SHIFT", "hooks")]
    shares = production_steps(strategy, config)
    bake_between = step_bake_seconds(strategy, config)
    for index, share in enumerate(shares):
        steps += [Step("PRE_PRODUCTION_TRAFFIC_SHIFT", "hooks"), Step("PRODUCTION_TRAFFIC_SHIFT", "shift_prod", share)]
        if nlb:
            steps.append(Step("PRODUCTION_TRAFFIC_SHIFT", "wait", NLB_DELAY))
        steps.append(Step("PRODUCTION_TRAFFIC_SHIFT", "hooks"))
        if index < len(shares) - 1 and bake_between > 0:
            steps.append(Step("PRODUCTION_TRAFFIC_SHIFT", "wait", bake_between))
    steps += [Step("POST_PRODUCTION_TRAFFIC_SHIFT", "hooks"), Step("BAKE_TIME", "wait", bake_seconds(config)),
              Step("CLEAN_UP", "stop_blue"), Step("CLEAN_UP", "await_stopped")]
    return steps


def rollback_plan(*, test_shifted: bool, prod_shifted: bool) -> list[Step]:
    """A traffic deployment's rollback: production back to blue, then test traffic, each stage's hooks re-run
    ("When a rollback occurs, Amazon ECS re-invokes hooks registered at the PRODUCTION_TRAFFIC_SHIFT and
    TEST_TRAFFIC_SHIFT stages"), then green's tasks stop. Traffic this deployment never moved is not touched: a
    deployment it superseded was put in order before it started (Runner.settle_superseded), and a rule already as
    blue needs is not written again (docs/ecs-deployments.md, "Listener rules and targets after a rollback or a
    stop"). ``lifecycleStage`` reads each step's stage meanwhile: PRODUCTION_TRAFFIC_SHIFT, TEST_TRAFFIC_SHIFT, then
    CLEAN_UP (AWS is silent; docs/ecs-deployments.md, "lifecycleStage during a rollback")."""
    steps: list[Step] = []
    if prod_shifted:
        steps += [Step("PRODUCTION_TRAFFIC_SHIFT", "restore_prod"), Step("PRODUCTION_TRAFFIC_SHIFT", "hooks")]
    if test_shifted:
        steps += [Step("TEST_TRAFFIC_SHIFT", "restore_test"), Step("TEST_TRAFFIC_SHIFT", "hooks")]
    return [*steps, *green_cleanup_plan()]


def green_cleanup_plan() -> list[Step]:
    """A traffic deployment's rollback before blue and green were decided: its tasks stop."""
    return [Step("CLEAN_UP", "stop_green"), Step("CLEAN_UP", "await_stopped")]


def rolling_plan() -> list[Step]:
    return [Step("SCALE_UP", "rolling"), Step("CLEAN_UP", "await_stopped")]


def rolling_back_plan() -> list[Step]:
    """A ROLLING deployment's rollback: the previous revision rolled forward again."""
    return [Step("SCALE_UP", "rolling_back"), Step("CLEAN_UP", "await_stopped")]


# -- choosing the plan --------------------------------------------------------------------------------------------


def forward_plan(strategy: str, config: dict[str, Any], pairs: list[Pair], *, reconcile: bool) -> list[Step]:
    """The plan a deployment starts with: a traffic plan for BLUE_GREEN, LINEAR and CANARY with load balancers
    in advanced configuration (``pairs``); else ROLLING's."""
    if strategy in TRAFFIC_STRATEGIES and pairs:
        return traffic_plan(strategy, config, reconcile=reconcile, has_test=any(p.test for p in pairs),
                            nlb=any(is_nlb(p) for p in pairs))
    return rolling_plan()


def rollback_plan_for(strategy: str, state: EngineState) -> list[Step]:
    """The plan a failing deployment rolls back with, from where ``state`` says it got."""
    if strategy not in TRAFFIC_STRATEGIES:
        return rolling_back_plan()
    if state.green:
        return rollback_plan(test_shifted=state.test_shifted, prod_shifted=state.prod_shifted)
    return green_cleanup_plan()


def first_stage(plan: list[Step]) -> str:
    """The stage a plan starts with (a deployment not started yet: PRE_SCALE_UP's)."""
    return plan[0].stage if plan else "PRE_SCALE_UP"
