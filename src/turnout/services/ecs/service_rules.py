"""CreateService/UpdateService rules beyond the model: names, counts, launch types, the network, the deployment
configuration (AWS's defaults filled in), lifecycle hooks and load balancers (read from the ELB tables, never
through the ELB API).

Messages are AWS's where known: the ECS developer guide's blue/green troubleshooting page lists the synchronous
errors verbatim, others are AWS's answers as users quote them. Where AWS does not say, the wording is ours and a
comment says so. The troubleshooting page does not name the exception of its synchronous errors; they are
InvalidParameterException here (UNCONFIRMED), like every other CreateService validation error.
"""

from __future__ import annotations

import math
from typing import Any

from ...core.context import RequestContext
from ...store.db import Database
from ..ec2 import network
from ..elbv2 import store as elb
from ..elbv2.store import LISTENER_ARN, RULE_ARN, TG_ARN, TargetGroup, action_target_groups, load_balancers_using
from .capacity import FARGATE_PROVIDERS, check_strategy
from .common import NAME, client, invalid
from .model import HOOK_STAGES, PAUSE_STAGES, STRATEGIES
from .store.task_definitions import TaskDefinition

MAX_SUBNETS = 16
MAX_SECURITY_GROUPS = 5
MAX_HOOKS_PER_TYPE = 10
MAX_BAKE_MINUTES = 1440
PAUSE_TIMEOUT_MAX = 20160
LAMBDA_TIMEOUT_MAX = 1440


# -- names, counts, launch types ------------------------------------------------------------------------------

def check_service_name(name: str) -> None:
    if not NAME.match(name):
        # Our wording for the documented rule ("Up to 255 letters (uppercase and lowercase), numbers, underscores,
        # and hyphens are allowed.").
        raise invalid("Service name can have up to 255 characters, including letters (uppercase and lowercase), "
                      "numbers, underscores (_), and hyphens (-).")


def check_desired_count(value: int | None) -> None:
    if value is not None and value < 0:
        raise invalid("desiredCount can't be less than 0.")  # our wording: AWS's is not published


def check_task_definition(td: TaskDefinition | None) -> TaskDefinition:
    """The task definition a service names: it must exist and be ACTIVE (AWS's ClientException wordings)."""
    if td is None:
        raise client("TaskDefinition not found.")
    if td.status != "ACTIVE":
        raise client("TaskDefinition is inactive")
    return td


def is_fargate(config: dict[str, Any]) -> bool:
    if config.get("launchType") == "FARGATE":
        return True
    strategy = config.get("capacityProviderStrategy") or []
    return bool(strategy) and all(item.get("capacityProvider") in FARGATE_PROVIDERS for item in strategy)


def check_launch(config: dict[str, Any], td_body: dict[str, Any], associated: list[str], *,
                 desired_given: bool = False) -> None:
    """launchType / capacityProviderStrategy / platformVersion against each other, the cluster's capacity providers
    (``associated``) and the task definition."""
    launch = config.get("launchType")
    strategy = config.get("capacityProviderStrategy") or []
    if launch and strategy:
        raise invalid("Specifying both a launch type and capacity provider strategy is not supported. "
                      "Remove one and try again.")
    check_strategy(strategy, associated)
    fargate = is_fargate(config)
    if fargate and "FARGATE" not in (td_body.get("compatibilities") or []):
        raise invalid("Task definition does not support launch_type FARGATE.")
    if not fargate and config.get("platformVersion"):
        raise invalid("The platform version must be null when specifying an EC2 launch type.")
    if config.get("schedulingStrategy") == "DAEMON":
        if fargate:
            raise invalid("Fargate does not support the DAEMON scheduling strategy.")  # our wording
        if desired_given:
            raise invalid("The daemon scheduling strategy does not support a desired count for services. "
                          "Remove the desired count value and try again")


# -- network ----------------------------------------------------------------------------------------------------

def check_network(db: Database, ctx: RequestContext, given: dict[str, Any] | None, td_body: dict[str, Any],
                  config: dict[str, Any]) -> dict[str, Any] | None:
    """The service's networkConfiguration, checked against the task definition's network mode and EC2."""
    vpc_config = (given or {}).get("awsvpcConfiguration")
    if td_body.get("networkMode") != "awsvpc":
        if vpc_config is not None:
            raise invalid("Network Configuration is not valid for the given networkMode of this task definition.")
        return None
    if vpc_config is None:
        raise invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
    subnet_ids = list(vpc_config.get("subnets") or [])
    groups = list(vpc_config.get("securityGroups") or [])
    if not subnet_ids:
        raise invalid("subnets can not be empty.")  # our wording, after AWS's "... can have at most N items."
    if len(subnet_ids) > MAX_SUBNETS:
        raise invalid(f"subnets can have at most {MAX_SUBNETS} items.")
    if len(groups) > MAX_SECURITY_GROUPS:
        raise invalid(f"securityGroups can have at most {MAX_SECURITY_GROUPS} items.")
    account, region = ctx.account_id, ctx.region
    found = {s.subnet_id: s for s in network.subnets(db, account, region, subnet_ids, ctx.received_at)}
    for subnet_id in subnet_ids:
        if subnet_id not in found:
            raise invalid(f"Error retrieving subnet information for [{subnet_id}]: The subnet ID '{subnet_id}' "
                          "does not exist (ErrorCode: InvalidSubnetID.NotFound)")
    if len({s.vpc_id for s in found.values()}) > 1:
        raise invalid("Subnets must all belong to the same VPC.")  # our wording
    known = {g.group_id for g in network.security_groups(db, account, region, groups, ctx.received_at)}
    for group_id in groups:
        if group_id not in known:
            # Our wording, after AWS's for subnets.
            raise invalid(f"Error retrieving security group information for [{group_id}]: The security group "
                          f"'{group_id}' does not exist (ErrorCode: InvalidGroup.NotFound)")
    assign = vpc_config.get("assignPublicIp") or "DISABLED"
    if assign == "ENABLED" and not is_fargate(config):
        raise invalid("Assign public IP is not supported for this launch type.")
    out: dict[str, Any] = {"subnets": subnet_ids}
    if groups:
        out["securityGroups"] = groups
    out["assignPublicIp"] = assign
    return {"awsvpcConfiguration": out}


# -- deployment configuration -----------------------------------------------------------------------------------

def _tenths(value: float, low: float, high: float) -> bool:
    return low - 1e-9 <= value <= high + 1e-9 and abs(value * 10 - round(value * 10)) < 1e-6


def _bake(value: Any, name: str) -> None:
    if not 0 <= value <= MAX_BAKE_MINUTES:
        raise invalid(f"{name} must be between 0 and {MAX_BAKE_MINUTES} minutes.")  # our wording


# A strategy's own member of deploymentConfiguration: only valid with that strategy.
STRATEGY_MEMBERS = {"linearConfiguration": "LINEAR", "canaryConfiguration": "CANARY"}


def merge_deployment_configuration(current: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """UpdateService's deploymentConfiguration over the service's: each member the request gives replaces the
    stored one whole (a partial ``linearConfiguration``/``canaryConfiguration``/hook ``timeoutConfiguration``
    takes the defaults for what it leaves out), the others are kept. Observed on AWS (README "ECS for Terraform"):
    only ``maximumPercent`` sent keeps ``minimumHealthyPercent`` and the circuit breaker; ``linearConfiguration``
    {stepPercent: 44} over {33, 9} gives {44, 6}; omitted ``lifecycleHooks`` are kept, an empty list clears them.

    Members the caller did not send that the resulting strategy cannot have are dropped instead of refused: the
    other strategy's ``linearConfiguration``/``canaryConfiguration`` when the strategy changes (LINEAR to CANARY,
    or to BLUE_GREEN), and lifecycle hooks when it becomes ROLLING (our choice: AWS does not say; a request is
    never refused over a member its caller did not send)."""
    out = {**current, **given}
    strategy = out.get("strategy") or "ROLLING"
    for member, owner in STRATEGY_MEMBERS.items():
        if member not in given and strategy != owner:
            out.pop(member, None)
    if "lifecycleHooks" not in given and strategy == "ROLLING":
        out.pop("lifecycleHooks", None)
    return out


def fill_deployment_configuration(given: dict[str, Any] | None, *, controller: str, daemon: bool) -> dict[str, Any]:
    """deploymentConfiguration with AWS's defaults (200/100, circuit breaker off, ROLLING), checked."""
    out: dict[str, Any] = dict(given or {})
    strategy = out.get("strategy") or "ROLLING"
    if strategy not in STRATEGIES:
        raise invalid(f"Invalid deployment strategy {strategy}.")  # unreachable through the model's enum
    if strategy != "ROLLING" and controller != "ECS":
        raise invalid(f"The {strategy} deployment strategy requires the ECS deployment controller.")  # ours
    out["strategy"] = strategy
    out.setdefault("deploymentCircuitBreaker", {"enable": False, "rollback": False})
    out.setdefault("maximumPercent", 100 if daemon else 200)
    out.setdefault("minimumHealthyPercent", 0 if daemon else 100)
    if out["minimumHealthyPercent"] < 0 or out["maximumPercent"] < 0:
        raise invalid("minimumHealthyPercent and maximumPercent must not be negative.")  # our wording
    bake = out.get("bakeTimeInMinutes")
    # AWS's API reference says bakeTimeInMinutes "must" be provided with BLUE_GREEN; CloudFormation documents
    # defaults instead (UNCONFIRMED which the ECS API enforces). Turnout accepts it absent and leaves it absent:
    # the deployment engine then bakes for 0 minutes.
    if bake is not None and bake < 0:
        raise invalid("bakeTimeInMinutes must not be negative.")  # our wording
    linear = out.get("linearConfiguration")
    if linear is not None and strategy != "LINEAR":
        raise invalid("linearConfiguration is only valid when the deployment strategy is LINEAR.")  # ours
    if strategy == "LINEAR":
        linear = {"stepPercent": 10.0, "stepBakeTimeInMinutes": 6, **(linear or {})}
        if not _tenths(float(linear["stepPercent"]), 3.0, 100.0):
            raise invalid("stepPercent must be a multiple of 0.1 from 3.0 to 100.0.")  # our wording
        _bake(linear["stepBakeTimeInMinutes"], "stepBakeTimeInMinutes")
        out["linearConfiguration"] = {"stepPercent": float(linear["stepPercent"]),
                                      "stepBakeTimeInMinutes": linear["stepBakeTimeInMinutes"]}
    canary = out.get("canaryConfiguration")
    if canary is not None and strategy != "CANARY":
        raise invalid("canaryConfiguration is only valid when the deployment strategy is CANARY.")  # ours
    if strategy == "CANARY":
        canary = {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": 10, **(canary or {})}
        if not _tenths(float(canary["canaryPercent"]), 0.1, 100.0):
            raise invalid("canaryPercent must be a multiple of 0.1 from 0.1 to 100.0.")  # our wording
        _bake(canary["canaryBakeTimeInMinutes"], "canaryBakeTimeInMinutes")
        out["canaryConfiguration"] = {"canaryPercent": float(canary["canaryPercent"]),
                                      "canaryBakeTimeInMinutes": canary["canaryBakeTimeInMinutes"]}
    hooks = out.get("lifecycleHooks")
    if hooks:
        if strategy == "ROLLING":
            # Our wording: lifecycle hooks belong to the blue/green, linear and canary strategies.
            raise invalid("lifecycleHooks are only supported with the BLUE_GREEN, LINEAR and CANARY deployment "
                          "strategies.")
        out["lifecycleHooks"] = [check_hook(hook) for hook in hooks]
        for kind in ("PAUSE", "AWS_LAMBDA"):
            if sum(1 for hook in out["lifecycleHooks"] if hook["targetType"] == kind) > MAX_HOOKS_PER_TYPE:
                label = "pause" if kind == "PAUSE" else "Lambda"
                # Our wording for the documented quota (10 pause hooks and 10 Lambda hooks per service).
                raise invalid(f"A service can have at most {MAX_HOOKS_PER_TYPE} {label} lifecycle hooks.")
    return out


def check_hook(hook: dict[str, Any]) -> dict[str, Any]:
    """One lifecycle hook with its defaults (targetType AWS_LAMBDA, timeout 1440 minutes, action ROLLBACK)."""
    out = dict(hook)
    kind = out.get("targetType") or "AWS_LAMBDA"
    if kind not in ("AWS_LAMBDA", "PAUSE"):
        raise invalid("Invalid targetType. Valid values are: AWS_LAMBDA, PAUSE")
    out["targetType"] = kind
    stages = list(out.get("lifecycleStages") or [])
    if not stages:
        raise invalid("lifecycleStages can not be empty.")  # our wording
    for stage in stages:
        if stage not in HOOK_STAGES:
            raise invalid(f"Invalid lifecycle stage {stage}.")  # unreachable through the model's enum
        if kind == "PAUSE" and stage not in PAUSE_STAGES:
            raise invalid("Invalid lifecycle stage provided for Pause Hook")
    if kind == "AWS_LAMBDA":
        if not out.get("hookTargetArn"):
            raise invalid("hookTargetArn is required for AWS_LAMBDA lifecycle hooks.")  # our wording
        if not out.get("roleArn"):
            raise invalid("roleArn is required for AWS_LAMBDA lifecycle hooks.")  # our wording
    timeout = {"timeoutInMinutes": 1440, "action": "ROLLBACK", **(out.get("timeoutConfiguration") or {})}
    high = LAMBDA_TIMEOUT_MAX if kind == "AWS_LAMBDA" else PAUSE_TIMEOUT_MAX
    if not 1 <= timeout["timeoutInMinutes"] <= high:
        # Our wording for the documented ranges (Lambda hooks 1-1440, pause hooks 1-20160 minutes).
        raise invalid(f"timeoutInMinutes must be between 1 and {high} for {kind} lifecycle hooks.")
    out["timeoutConfiguration"] = timeout
    out["lifecycleStages"] = stages
    return out


# -- load balancers ---------------------------------------------------------------------------------------------

def _container_port(td_body: dict[str, Any], name: str | None, port: int | None) -> None:
    if not name:
        raise invalid("Container Name can not be blank.")
    if port is None:
        raise invalid("Container Port can not be blank.")  # our wording, after AWS's for the name
    containers = {c.get("name"): c for c in td_body.get("containerDefinitions") or []}
    container = containers.get(name)
    if container is None:
        raise invalid(f"The container {name} does not exist in the task definition.")
    if not any(m.get("containerPort") == port for m in container.get("portMappings") or []):
        raise invalid(f"The container {name} did not have a container port {port} defined.")


def _target_group(db: Database, ctx: RequestContext, arn: str, network_mode: str) -> TargetGroup:
    match = TG_ARN.match(arn)
    tg = elb.target_group(db, ctx.account_id, ctx.region, arn) if match else None
    if tg is None:
        # Our wording, after AWS's "The target group with targetGroupArn ... does not have an associated ...".
        raise invalid(f"The target group with targetGroupArn {arn} does not exist.")
    if not load_balancers_using(db, ctx.account_id, ctx.region, arn):
        raise invalid(f"The target group with targetGroupArn {arn} does not have an associated load balancer.")
    target_type = tg.target_type
    if (network_mode == "awsvpc") != (target_type == "ip"):
        raise invalid(f"The provided target group {arn} has target type {target_type}, which is incompatible "
                      f"with the {network_mode} network mode specified in the task definition.")
    return tg


def _listener_or_rule(db: Database, ctx: RequestContext, member: str, arn: str
                      ) -> tuple[str, elb.Rule | elb.Listener]:
    """A productionListenerRule/testListenerRule: ("app", rule) for an ALB rule, ("net", listener) for NLB."""
    bad = invalid(f"{member} has an invalid ARN format. Must be RuleArn for ALB or ListenerArn for NLB. Got: {arn}")
    if RULE_ARN.match(arn) and ":listener-rule/app/" in arn:
        rule = elb.rule(db, ctx.account_id, ctx.region, arn)
        if rule is None:
            raise invalid(f"The listener rule {arn} does not exist.")  # our wording
        return "app", rule
    if LISTENER_ARN.match(arn) and ":listener/net/" in arn:
        listener = elb.listener(db, ctx.account_id, ctx.region, arn)
        if listener is None:
            raise invalid(f"The listener {arn} does not exist.")  # our wording
        return "net", listener
    raise bad


def check_load_balancers(db: Database, ctx: RequestContext, given: list[dict[str, Any]] | None,
                         td_body: dict[str, Any], strategy: str) -> list[dict[str, Any]]:
    """The service's loadBalancers, checked against the task definition and the ELB tables."""
    lbs = [dict(lb) for lb in given or []]
    if not lbs:
        return []
    classic = [bool(lb.get("loadBalancerName")) for lb in lbs]
    v2 = [bool(lb.get("targetGroupArn")) for lb in lbs]
    if any(c == v for c, v in zip(classic, v2, strict=True)) or (any(classic) and any(v2)):
        raise invalid("All loadBalancers must be strictly either ELBv1 (defining loadBalancerName) or ELBv2 "
                      "(defining targetGroupArn)")
    advanced = [lb.get("advancedConfiguration") is not None for lb in lbs]
    if any(classic):
        if any(advanced):
            raise invalid("advancedConfiguration field is not allowed with ELBv1 loadBalancers")
        # Turnout serves no Classic Load Balancers (our wording).
        raise invalid(f"Unable to find the load balancer {lbs[0]['loadBalancerName']}: Classic Load Balancers "
                      "are not supported.")
    if any(advanced) and not all(advanced):
        raise invalid("Either all or none of the provided loadBalancers must have advancedConfiguration defined")
    if strategy != "ROLLING" and not all(advanced):
        raise invalid("advancedConfiguration field is required for all loadBalancers when using a non-ROLLING "
                      "deployment strategy")
    seen: set[str] = set()
    for lb in lbs:
        arns = [lb["targetGroupArn"]]
        config = lb.get("advancedConfiguration")
        if config is not None:
            if not config.get("alternateTargetGroupArn"):
                raise invalid("alternateTargetGroupArn is required in advancedConfiguration.")  # our wording
            arns.append(config["alternateTargetGroupArn"])
        for arn in arns:
            if arn in seen:
                raise invalid(f"Duplicate targetGroupArn found: {arn}")
            seen.add(arn)
    mode = str(td_body.get("networkMode") or "bridge")
    for lb in lbs:
        _container_port(td_body, lb.get("containerName"), lb.get("containerPort"))
        _target_group(db, ctx, lb["targetGroupArn"], mode)
        if lb.get("advancedConfiguration") is not None:
            lb["advancedConfiguration"] = _check_advanced(db, ctx, lb, mode)
    return lbs


def _check_advanced(db: Database, ctx: RequestContext, lb: dict[str, Any], mode: str) -> dict[str, Any]:
    config = dict(lb["advancedConfiguration"])
    primary, alternate = lb["targetGroupArn"], config["alternateTargetGroupArn"]
    _target_group(db, ctx, alternate, mode)
    production = config.get("productionListenerRule")
    if not production:
        raise invalid("productionListenerRule is required in advancedConfiguration.")  # our wording
    kind, found = _listener_or_rule(db, ctx, "productionListenerRule", production)
    test = config.get("testListenerRule")
    if test:
        _listener_or_rule(db, ctx, "testListenerRule", test)
        if test == production:
            raise invalid(f"The following rules cannot be used as both production and test listener rules: {test}")
    elif kind == "app" and isinstance(found, elb.Rule):
        forwards = action_target_groups(found.actions)
        if primary not in forwards or alternate not in forwards:
            raise invalid("For Application LoadBalancer, testListenerRule is required when productionListenerRule "
                          "is not associated with both targetGroup and alternateTargetGroup")
    if not config.get("roleArn"):
        raise invalid("roleArn is required in advancedConfiguration.")  # our wording
    return config


def circuit_breaker_view(config: dict[str, Any], desired: int) -> dict[str, Any]:
    """ServiceDeployment.deploymentCircuitBreaker as a deployment starts (threshold: half the desired count,
    3 to 200, as AWS documents)."""
    breaker = config.get("deploymentCircuitBreaker") or {}
    if not breaker.get("enable"):
        return {"status": "DISABLED", "failureCount": 0, "threshold": 0}
    return {"status": "MONITORING", "failureCount": 0, "threshold": min(200, max(3, math.ceil(desired * 0.5)))}


def alarms_view(config: dict[str, Any]) -> dict[str, Any]:
    alarms = config.get("alarms") or {}
    out: dict[str, Any] = {"status": "MONITORING" if alarms.get("enable") else "DISABLED"}
    if alarms.get("alarmNames"):
        out["alarmNames"] = list(alarms["alarmNames"])
    return out


def volume_roles(req: dict[str, Any]) -> list[str]:
    """The infrastructure roles of the managed EBS volumes a CreateService/UpdateService/RunTask request
    configures."""
    return [str(v["managedEBSVolume"]["roleArn"]) for v in req.get("volumeConfigurations") or []
            if (v.get("managedEBSVolume") or {}).get("roleArn")]
