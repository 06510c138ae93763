"""``turnout demo``: the seed's walkthrough end to end, through the public API only.

1. the ECS infrastructure role for load balancers (the seed's trust policy, the AWS managed policy);
2. a user ``demo-deployer`` who may deploy ECS services, and soon pass the role;
3. an Application Load Balancer with blue and green target groups, a production and a test listener;
4. a cluster and two revisions of the task definition ``web``;
5. as the deployer: CreateService without iam:PassRole (denied), then with it; the first deployment;
6. a blue/green deployment to revision 2, followed live, with real HTTP traffic through the listeners (the
   ``curl`` lines, test traffic on revision 2 while production stays on revision 1, and background clients on the
   production listener during the whole shift: answers per revision and zero failed requests); skipped with one
   line when the server has no data plane;
7. CloudTrail: the calls ECS made with the role (user name ``ECSNetworkingWithELB``);
8. a deployment paused at POST_SCALE_UP; the role's trust policy broken while it waits; continued: it fails and
   rolls back.

Without ``--endpoint-url`` the demo starts its own ``turnout serve`` on a temporary data directory and stops it
at the end. Exit status 0 when everything happened as designed (the last deployment failing is the design),
1 with a message when the server did something else.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .demo_progress import (
    DemoError,
    awaiting_pause,
    deployments,
    follow,
    new_deployment,
    rule_weights,
    say,
    show,
    step,
    wait_for,
)
from .demo_setup import (
    CLUSTER,
    EC2_ONLY_TRUST,
    ROLE_NAME,
    SERVICE,
    TEST_HEADER,
    TRUST_POLICY,
    USER_NAME,
    Clients,
    Network,
    check_endpoint,
    create_deployer,
    create_role,
    embedded_server,
    grant_pass_role,
    setup_ecs,
    setup_network,
)
from .demo_traffic import (
    Traffic,
    ask,
    ask_until_answered,
    curl_command,
    dataplane,
    describe_counts,
    listener_address,
    revision_label,
    tally,
)

NETWORKING_SESSION = "ECSNetworkingWithELB"
SCHEDULER_SESSION = "ecs-service-scheduler"


def run(endpoint_url: str | None, time_scale: float, data_dir: Path | None) -> int:
    """The demo; its exit status."""
    from botocore.exceptions import BotoCoreError, ClientError

    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="turnout-demo-work-") as work:
            if endpoint_url:
                check_endpoint(endpoint_url)
                summary = Walkthrough(endpoint_url, Path(work)).run()
            else:
                with embedded_server(time_scale, data_dir) as endpoint:
                    summary = Walkthrough(endpoint, Path(work)).run()
    except DemoError as error:
        print(f"\nturnout demo: FAILED: {error}", file=sys.stderr, flush=True)
        return 1
    except ClientError as error:
        details = error.response.get("Error", {})
        hint = ""
        if details.get("Code") in ("EntityAlreadyExists", "DuplicateLoadBalancerName", "DuplicateTargetGroupName"):
            hint = " (the demo needs a server without its resources: run it without --endpoint-url)"
        print(f"\nturnout demo: FAILED: {error.operation_name} answered {details.get('Code')}: "
              f"{details.get('Message')}{hint}", file=sys.stderr, flush=True)
        return 1
    except BotoCoreError as error:
        print(f"\nturnout demo: FAILED: {error}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("\nturnout demo: interrupted", file=sys.stderr, flush=True)
        return 130
    print("\nSummary", flush=True)
    for text in summary:
        say(text)
    say(f"the demo took {time.monotonic() - started:.1f} s")
    return 0


class Walkthrough:
    def __init__(self, endpoint: str, workdir: Path) -> None:
        self.clients = Clients(endpoint)
        self.workdir = workdir
        self.iam = self.clients.client("iam")
        self.elb = self.clients.client("elbv2")
        self.summary: list[str] = []
        self.net: Network | None = None
        self.deployer_ecs: Any = None

    def run(self) -> list[str]:
        step(1, f"The ECS infrastructure role for load balancers ({ROLE_NAME})")
        self.role_arn = create_role(self.iam, self.workdir)
        self.summary.append(f"role {self.role_arn} with AmazonECSInfrastructureRolePolicyForLoadBalancers")

        step(2, f"A user allowed to deploy ECS services ({USER_NAME})")
        key, secret = create_deployer(self.iam)
        self.deployer_ecs = self.clients.client("ecs", key, secret)

        step(3, "Load balancer resources for blue/green (as the account's root user)")
        self.net = setup_network(self.clients.client("ec2"), self.elb)

        step(4, "Cluster and task definitions")
        self.cluster, self.revisions = setup_ecs(self.clients.client("ecs"))

        step(5, f"CreateService {SERVICE} (BLUE_GREEN) as {USER_NAME}")
        self.create_service()

        step(6, f"Blue/green deployment of {self.revisions[1]}")
        self.deploy_revision_2()

        step(7, f"CloudTrail: the calls ECS made through the role (LookupEvents Username={NETWORKING_SESSION})")
        self.cloudtrail()

        step(8, "A deployment paused at POST_SCALE_UP, the role's trust policy broken while it waits")
        self.broken_role()
        return self.summary

    @property
    def network(self) -> Network:
        assert self.net is not None
        return self.net

    def service_request(self) -> dict[str, Any]:
        net = self.network
        return {
            "cluster": CLUSTER, "serviceName": SERVICE, "taskDefinition": self.revisions[0], "desiredCount": 2,
            "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {
                "subnets": net.subnets, "securityGroups": [net.security_group], "assignPublicIp": "ENABLED"}},
            "loadBalancers": [{
                "targetGroupArn": net.blue, "containerName": "web", "containerPort": 80,
                "advancedConfiguration": {
                    "alternateTargetGroupArn": net.green, "productionListenerRule": net.production_rule,
                    "testListenerRule": net.test_rule, "roleArn": self.role_arn,
                },
            }],
            "deploymentController": {"type": "ECS"},
            "deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1},
        }

    # -- step 5 ---------------------------------------------------------------------------------------------------

    def create_service(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.deployer_ecs.create_service(**self.service_request())
        except ClientError as error:
            details = error.response["Error"]
            if details["Code"] != "AccessDeniedException":
                raise DemoError(f"CreateService without iam:PassRole answered {details['Code']}: "
                                f"{details['Message']} (expected AccessDeniedException)") from None
            say(f"without iam:PassRole, CreateService is denied: {details['Code']}: {details['Message']}")
        else:
            raise DemoError("CreateService succeeded for a user without iam:PassRole on the infrastructure role")
        grant_pass_role(self.iam)
        service = self.deployer_ecs.create_service(**self.service_request())["service"]
        say(f"CreateService: {service['serviceArn']} ({service['status']}, desired {service['desiredCount']})")
        self.summary.append(f"user {USER_NAME}: CreateService denied without iam:PassRole, allowed with it")
        arn = service.get("currentServiceDeployment") or new_deployment(self.deployer_ecs, CLUSTER, SERVICE, ())
        say(f"first deployment {arn}")
        self.finish(arn, "the first deployment")

    def finish(self, arn: str, what: str, traffic: Traffic | None = None) -> dict[str, Any]:
        net = self.network
        deployment = follow(self.deployer_ecs, self.elb, arn, net.production_rule, net.labels(),
                            traffic=traffic.line if traffic is not None else None)
        if deployment["status"] != "SUCCESSFUL":
            raise DemoError(f"{what} ended {deployment['status']}: {deployment.get('statusReason', '')}")
        service = self.service()
        say(f"{what} is SUCCESSFUL: {service['runningCount']} of {service['desiredCount']} tasks running "
            f"{service['taskDefinition']}")
        self.summary.append(f"{what}: SUCCESSFUL ({arn})")
        return deployment

    def service(self) -> dict[str, Any]:
        found: list[dict[str, Any]] = self.deployer_ecs.describe_services(cluster=CLUSTER, services=[SERVICE])[
            "services"]
        if not found:
            raise DemoError(f"DescribeServices does not find service {SERVICE}")
        return found[0]

    # -- step 6 ---------------------------------------------------------------------------------------------------

    def deploy_revision_2(self) -> None:
        known = deployments(self.deployer_ecs, CLUSTER, SERVICE)
        net = self.network
        served = self.listeners()
        # Background clients on the production listener from UpdateService to SUCCESSFUL.
        traffic = Traffic(served[0]).start() if served is not None else None
        try:
            # A PAUSE hook after the test traffic shift: the moment to check green through the test listener before
            # production moves (then continued).
            hooks = [{"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}]
            self.deployer_ecs.update_service(
                cluster=CLUSTER, service=SERVICE, taskDefinition=self.revisions[1],
                deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1, "lifecycleHooks": hooks})
            arn = new_deployment(self.deployer_ecs, CLUSTER, SERVICE, known)
            say(f"UpdateService taskDefinition {self.revisions[1].rsplit('/', 1)[1]} with a PAUSE hook at "
                f"POST_TEST_TRAFFIC_SHIFT: deployment {arn}")
            paused = follow(self.deployer_ecs, self.elb, arn, net.production_rule, net.labels(),
                            until=lambda d: awaiting_pause(d) is not None,
                            traffic=traffic.line if traffic is not None else None)
            hook = awaiting_pause(paused)
            if hook is None:
                raise DemoError(f"the deployment ended {paused['status']} before its PAUSE hook awaited action")
            say(f"test traffic is on the new revision, production is not: test rule "
                f"{rule_weights(self.elb, net.test_rule, net.labels())}, production rule "
                f"{rule_weights(self.elb, net.production_rule, net.labels())}")
            if served is not None and traffic is not None:
                self.check_paused(served, traffic)
            self.deployer_ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"],
                                                          action="CONTINUE")
            say(f"ContinueServiceDeployment {hook['hookId']} (CONTINUE)")
            self.finish(arn, "the blue/green deployment to revision 2", traffic)
            if traffic is not None:  # production is on revision 2 now: let its first answers come in (bounded)
                label = revision_label(self.revisions[1])
                with contextlib.suppress(DemoError):
                    wait_for(f"{label} answering production", lambda: True if traffic.counts()[label] else None, 10)
        finally:
            if traffic is not None:
                traffic.stop()
        say(f"production rule now: {rule_weights(self.elb, net.production_rule, net.labels())}")
        if traffic is not None:
            self.report_traffic(traffic)

    def listeners(self) -> tuple[tuple[str, int], tuple[str, int]] | None:
        """Where the production and test listeners are served, after printing their ``curl`` lines and a first
        request through production; None (said in one line) when the server has no data plane."""
        endpoint = self.clients.endpoint
        if dataplane(endpoint) is None:
            say("the server has no data plane (GET /_turnout/dataplane: not enabled): no traffic through the "
                "listeners, skipped")
            self.summary.append("traffic through the listeners: skipped (the server has no data plane)")
            return None
        net = self.network
        production = listener_address(endpoint, net.production_listener)
        test = listener_address(endpoint, net.test_listener)
        say(f"production listener, served on {production[0]}:{production[1]}: {curl_command(net.dns_name, production)}")
        say(f"test listener, served on {test[0]}:{test[1]}: "
            f"{curl_command(net.dns_name, test, dict([TEST_HEADER]))}")
        first = ask_until_answered(production)
        label = revision_label(first["taskDefinitionArn"])
        say(f"GET / through production: {label} answered (task {first.get('taskArn', '-')}, "
            f"image {first.get('image', '-')})")
        if first["taskDefinitionArn"] != self.revisions[0]:
            raise DemoError(f"production answered with {first['taskDefinitionArn']} before the deployment "
                            f"(expected {self.revisions[0]})")
        return production, test

    def check_paused(self, served: tuple[tuple[str, int], tuple[str, int]], traffic: Traffic) -> None:
        """At POST_TEST_TRAFFIC_SHIFT: requests through the test listener reach revision 2, production stays on
        revision 1 (a few requests of the demo's own, and everything the background clients saw)."""
        production, test = served
        on_test = tally([ask(test, dict([TEST_HEADER])) for _ in range(5)])
        on_production = tally([ask(production) for _ in range(5)])
        say(f"GET / through the test listener ({TEST_HEADER[0]}: {TEST_HEADER[1]}): {describe_counts(on_test)}")
        say(f"GET / through production: {describe_counts(on_production)} (background clients so far: "
            f"{traffic.line()})")
        old, new = revision_label(self.revisions[0]), revision_label(self.revisions[1])
        if set(on_test) != {new}:
            raise DemoError(f"at POST_TEST_TRAFFIC_SHIFT the test listener answered {describe_counts(on_test)} "
                            f"(expected only {new})")
        seen = set(on_production) | set(traffic.counts())
        if seen != {old}:
            raise DemoError(f"at POST_TEST_TRAFFIC_SHIFT production answered {describe_counts(on_production)}, "
                            f"background clients {traffic.line()} (expected only {old})")

    def report_traffic(self, traffic: Traffic) -> None:
        """The background clients' answers per revision; DemoError naming any failed request. Zero is the promise:
        a deregistered target gets no new request while those in flight may finish (docs/dataplane.md, "Health
        routing, timeouts, draining, slow start"), and ECS moves production only to targets that passed their
        health checks. Both revisions must have answered (Turnout's choice: a shift nobody saw shows nothing)."""
        counts, failures = traffic.counts(), traffic.failures()
        say(f"production traffic during the shift (2 keep-alive clients, UpdateService to SUCCESSFUL): "
            f"{describe_counts(counts)}")
        say(f"failed requests: {len(failures)}")
        if failures:
            listed = "; ".join(str(f) for f in failures[:5])
            more = f" and {len(failures) - 5} more" if len(failures) > 5 else ""
            raise DemoError(f"{len(failures)} requests through the production listener failed during the shift "
                            f"(zero is the promise): {listed}{more}")
        missing = [label for label in map(revision_label, self.revisions[:2]) if counts[label] == 0]
        if missing:
            raise DemoError(f"production traffic during the shift never reached {', '.join(missing)} "
                            f"({describe_counts(counts)})")
        self.summary.append(f"traffic through the production listener during the shift: {describe_counts(counts)}, "
                            "failed requests: 0")

    # -- step 7 ---------------------------------------------------------------------------------------------------

    def cloudtrail(self) -> None:
        trail = self.clients.client("cloudtrail")
        events = lookup(trail, NETWORKING_SESSION)
        if not events:
            raise DemoError(f"CloudTrail has no event of user name {NETWORKING_SESSION} after two deployments")
        net = self.network
        rules = {net.production_rule: "production rule", net.test_rule: "test rule"}
        for event in events:  # oldest first (lookup): the story of the two deployments
            record = json.loads(event.get("CloudTrailEvent") or "{}")
            invoked_by = record.get("userIdentity", {}).get("invokedBy", "-")
            say(f"{event['EventTime'].isoformat()}  {event['EventName']:<16} {event.get('Username', '-')}  "
                f"invokedBy {invoked_by}{changed(record, rules, net.labels())}")
        scheduler = lookup(trail, SCHEDULER_SESSION)
        say(f"{len(events)} events of {NETWORKING_SESSION}; {len(scheduler)} more of {SCHEDULER_SESSION} "
            "(ECS's calls as the service scheduler)")
        self.summary.append(f"CloudTrail: {len(events)} events by {NETWORKING_SESSION}, {len(scheduler)} by "
                            f"{SCHEDULER_SESSION}")

    # -- step 8 ---------------------------------------------------------------------------------------------------

    def broken_role(self) -> None:
        net = self.network
        known = deployments(self.deployer_ecs, CLUSTER, SERVICE)
        hooks = [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}]
        self.deployer_ecs.update_service(
            cluster=CLUSTER, service=SERVICE, taskDefinition=self.revisions[0],
            deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1, "lifecycleHooks": hooks})
        arn = new_deployment(self.deployer_ecs, CLUSTER, SERVICE, known)
        say(f"UpdateService back to {self.revisions[0].rsplit('/', 1)[1]} with a PAUSE hook at POST_SCALE_UP: {arn}")
        paused = follow(self.deployer_ecs, self.elb, arn, net.production_rule, net.labels(),
                        until=lambda d: awaiting_pause(d) is not None)
        hook = awaiting_pause(paused)
        if hook is None:
            raise DemoError(f"the deployment ended {paused['status']} before its PAUSE hook awaited action")
        say(f"paused: hook {hook['hookId']} is AWAITING_ACTION at {paused.get('lifecycleStage')}")
        self.iam.update_assume_role_policy(RoleName=ROLE_NAME, PolicyDocument=EC2_ONLY_TRUST)
        say("iam update-assume-role-policy: the role now trusts only ec2.amazonaws.com:")
        show(EC2_ONLY_TRUST)
        self.deployer_ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"],
                                                      action="CONTINUE")
        say("ContinueServiceDeployment (CONTINUE)")
        final = follow(self.deployer_ecs, self.elb, arn, net.production_rule, net.labels())
        if final["status"] not in ("ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"):
            raise DemoError(f"the deployment ended {final['status']} although ECS can no longer assume the role "
                            f"(expected a rollback): {final.get('statusReason', 'no statusReason')}")
        self.report_failure(final)
        self.iam.update_assume_role_policy(RoleName=ROLE_NAME, PolicyDocument=TRUST_POLICY)
        say("restored the role's trust policy (ecs.amazonaws.com)")

    def report_failure(self, deployment: dict[str, Any]) -> None:
        net = self.network
        say(f"status: {deployment['status']}")
        say(f"statusReason: {deployment.get('statusReason', '-')}")
        rollback = deployment.get("rollback") or {}
        if rollback:
            started = rollback.get("startedAt")
            reason = rollback.get("reason")
            known = reason is None or str(deployment.get("statusReason", "")).startswith(reason)
            say(f"rollback: to {rollback.get('serviceRevisionArn', '-')}, started "
                f"{started.isoformat() if started else '-'}" + ("" if known else f": {reason}"))
        service = self.service()
        say(f"service: {service['status']}, {service['runningCount']} of {service['desiredCount']} running "
            f"{service['taskDefinition']}; production rule {rule_weights(self.elb, net.production_rule, net.labels())}")
        for revision in service.get("currentServiceRevisions") or []:
            say(f"current revision {revision['arn']}: {revision.get('runningTaskCount', 0)} running")
        events = sorted(service.get("events") or [], key=lambda e: e["createdAt"])[-8:]
        say("latest service events:")
        for event in events:
            show(f"{event['createdAt'].isoformat()}  {event['message']}")
        reason = str(deployment.get("statusReason", "-"))
        self.summary.append(f"paused deployment with a broken trust policy: {deployment['status']}: "
                            f"{reason if len(reason) <= 200 else reason[:197] + '...'}")


def changed(record: dict[str, Any], rules: dict[str, str], labels: dict[str, str]) -> str:
    """What a ModifyRule/ModifyListener record set: `` -> test rule: blue=0 green=100``."""
    params = record.get("requestParameters") or {}
    target = params.get("ruleArn") or params.get("listenerArn")
    if target is None:
        return ""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "targetGroupArn" in value and "weight" in value:
                found.append(f"{labels.get(value['targetGroupArn'], value['targetGroupArn'])}={value['weight']}")
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(params.get("actions") or params.get("defaultActions"))
    return f"  -> {rules.get(target, target)}: {' '.join(found)}" if found else ""


def lookup(trail: Any, username: str) -> list[dict[str, Any]]:
    """Every event of ``username`` (all pages), oldest first."""
    events: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {"LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": username}],
                                  "MaxResults": 50}
        if token:
            params["NextToken"] = token
        answer = trail.lookup_events(**params)
        events += answer.get("Events", [])
        token = answer.get("NextToken")
        if not token:  # pages come newest first; events of one second keep the order they were recorded in
            return sorted(reversed(events), key=lambda e: e["EventTime"])
