"""ECS RunTask end to end: standalone Fargate tasks with real boto3 (and the AWS CLI) against a real server on a fast
clock: the answer's shape, the task reaching RUNNING, jobs that exit with the code their ``turnout.exit-code``
label gives (read after the ``tasks_stopped`` waiter), placement over subnets, validation with AWS's messages,
iam:PassRole on the roles the tasks get, and clientToken idempotency."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CLI_CLIENT_ERROR, Server, aws_cli, cli_ok, error_of

ACCOUNT = "000000000000"
TASKS_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
WAIT = {"Delay": 1, "MaxAttempts": 60}


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose simulated waits run 600 times faster (a task reaches RUNNING in ~12 ms)."""
    srv = Server(tmp_path_factory.mktemp("ecs-run-task") / "data", ["--time-scale", "600"]).start()
    yield srv
    srv.stop()


class Jobs:
    """A cluster, the default VPC's subnets, and Fargate task definitions for one-off jobs."""

    def __init__(self, server: Server, unique: Callable[[str], str]) -> None:
        self.server, self.unique = server, unique
        self.ecs = server.client("ecs")
        self.iam = server.client("iam")
        ec2 = server.client("ec2")
        vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        self.subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets(Filters=[
            {"Name": "vpc-id", "Values": [vpc]}, {"Name": "default-for-az", "Values": ["true"]}])["Subnets"])
        self.cluster = unique("jobs")
        self.ecs.create_cluster(clusterName=self.cluster)

    def task_definition(self, labels: dict[str, str] | None = None, **extra: Any) -> tuple[str, str]:
        """(family, ARN) of a new Fargate task definition with one essential container ``job``."""
        family = self.unique("migrate")
        container: dict[str, Any] = {"name": "job", "image": "app:1", "essential": True, "command": ["serve"]}
        if labels:
            container["dockerLabels"] = labels
        arn: str = self.ecs.register_task_definition(
            family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[container], **extra)["taskDefinition"]["taskDefinitionArn"]
        return family, arn

    def network(self, count: int = 2) -> dict[str, Any]:
        return {"awsvpcConfiguration": {"subnets": self.subnets[:count]}}

    def run(self, task_definition: str, ecs: Any = None, **extra: Any) -> dict[str, Any]:
        args: dict[str, Any] = {"cluster": self.cluster, "taskDefinition": task_definition, "launchType": "FARGATE",
                                "networkConfiguration": self.network()}
        args.update(extra)
        answer: dict[str, Any] = (ecs or self.ecs).run_task(**args)
        return answer

    def describe(self, arns: list[str]) -> list[dict[str, Any]]:
        tasks: list[dict[str, Any]] = self.ecs.describe_tasks(cluster=self.cluster, tasks=arns,
                                                              include=["TAGS"])["tasks"]
        return tasks

    def wait_status(self, arn: str, status: str) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while True:
            task = self.describe([arn])[0]
            if task["lastStatus"] == status or time.monotonic() > deadline:
                return task
            time.sleep(0.05)

    def listed(self, family: str) -> list[str]:
        arns: list[str] = self.ecs.list_tasks(cluster=self.cluster, family=family)["taskArns"]
        return arns

    def task_role(self) -> str:
        arn: str = self.iam.create_role(RoleName=self.unique("jobrole"),
                                        AssumeRolePolicyDocument=json.dumps(TASKS_TRUST))["Role"]["Arn"]
        return arn

    def user(self, statements: list[dict[str, Any]]) -> tuple[str, str]:
        name = self.unique("runner")
        self.iam.create_user(UserName=name)
        self.iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]


@pytest.fixture
def jobs(fast: Server, unique: Callable[[str], str]) -> Jobs:
    return Jobs(fast, unique)


def _subnet(task: dict[str, Any]) -> str:
    details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
    return str(details["subnetId"])


def test_run_fargate_task(jobs: Jobs) -> None:
    family, td = jobs.task_definition(tags=[{"key": "owner", "value": "platform"}])
    overrides = {"containerOverrides": [{"name": "job", "command": ["migrate", "--to", "head"],
                                         "environment": [{"name": "STAGE", "value": "ci"}]}]}
    answer = jobs.run(family, startedBy="pipeline/42", overrides=overrides, propagateTags="TASK_DEFINITION",
                      tags=[{"key": "run", "value": "42"}], enableECSManagedTags=True)
    assert answer["failures"] == []
    [task] = answer["tasks"]
    assert task["taskArn"].startswith(f"arn:aws:ecs:us-east-1:{ACCOUNT}:task/{jobs.cluster}/")
    assert task["taskDefinitionArn"] == td
    assert task["clusterArn"] == f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/{jobs.cluster}"
    assert (task["lastStatus"], task["desiredStatus"]) == ("PROVISIONING", "RUNNING")
    assert task["group"] == f"family:{family}"
    assert task["startedBy"] == "pipeline/42"
    assert (task["launchType"], task["platformVersion"]) == ("FARGATE", "1.4.0")
    assert (task["cpu"], task["memory"]) == ("256", "512")
    assert task["overrides"] == {"containerOverrides": [{"name": "job", "command": ["migrate", "--to", "head"],
                                                         "environment": [{"name": "STAGE", "value": "ci"}]}],
                                 "inferenceAcceleratorOverrides": []}
    assert {t["key"]: t["value"] for t in task["tags"]} == {
        "owner": "platform", "run": "42", "aws:ecs:clusterName": jobs.cluster}
    assert [c["lastStatus"] for c in task["containers"]] == ["PENDING"]
    assert task["attachments"][0]["status"] == "PRECREATED" and _subnet(task) in jobs.subnets[:2]

    running = jobs.wait_status(task["taskArn"], "RUNNING")
    assert running["lastStatus"] == "RUNNING" and running["startedAt"] >= running["createdAt"]
    assert running["overrides"] == task["overrides"]  # kept with the task, not only in RunTask's answer
    assert running["containers"][0]["lastStatus"] == "RUNNING"
    assert {t["key"] for t in running["tags"]} == {"owner", "run", "aws:ecs:clusterName"}
    assert jobs.listed(family) == [task["taskArn"]]
    by_starter = jobs.ecs.list_tasks(cluster=jobs.cluster, startedBy="pipeline/42")["taskArns"]
    assert by_starter == [task["taskArn"]]
    stopped = jobs.ecs.stop_task(cluster=jobs.cluster, task=task["taskArn"])["task"]
    assert stopped["desiredStatus"] == "STOPPED"


@pytest.mark.parametrize(("label", "code"), [("0", 0), ("3", 3), (None, 1)])
def test_job_exit_code(jobs: Jobs, label: str | None, code: int) -> None:
    labels = {"turnout.exit-after": "5"}
    if label is not None:
        labels["turnout.exit-code"] = label
    _, td = jobs.task_definition(labels)
    arn = jobs.run(td)["tasks"][0]["taskArn"]
    jobs.ecs.get_waiter("tasks_stopped").wait(cluster=jobs.cluster, tasks=[arn], WaiterConfig=WAIT)
    [task] = jobs.describe([arn])
    assert (task["lastStatus"], task["desiredStatus"]) == ("STOPPED", "STOPPED")
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["stoppedReason"] == "Essential container in task exited"
    [container] = task["containers"]
    assert container["lastStatus"] == "STOPPED" and container["exitCode"] == code
    if code == 0:
        assert "reason" not in container
    else:
        assert container["reason"] == "Essential container exited"


def test_count_spreads_over_subnets(jobs: Jobs) -> None:
    family, td = jobs.task_definition()
    answer = jobs.run(td, count=3, networkConfiguration=jobs.network(3))
    assert answer["failures"] == [] and len(answer["tasks"]) == 3
    assert sorted(_subnet(t) for t in answer["tasks"]) == jobs.subnets[:3]
    assert len({t["taskArn"] for t in answer["tasks"]}) == 3
    assert sorted(jobs.listed(family)) == sorted(t["taskArn"] for t in answer["tasks"])


def test_validation(jobs: Jobs) -> None:
    family, td = jobs.task_definition()
    for count in (0, 11):
        assert error_of(jobs.run, td, count=count) == (
            "InvalidParameterException", "count must be between 1 and 10.", 400)
    assert error_of(jobs.run, td, networkConfiguration={}) == (
        "InvalidParameterException", "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
        400)
    missing = jobs.unique("nothing")
    assert error_of(jobs.run, missing) == ("ClientException", "TaskDefinition not found.", 400)
    assert error_of(jobs.run, td, cluster=jobs.unique("nocluster")) == (
        "ClusterNotFoundException", "Cluster not found.", 400)
    assert error_of(jobs.run, td, startedBy="x" * 129) == (
        "InvalidParameterException", "startedBy longer than 128.", 400)
    assert error_of(jobs.run, td, overrides={"containerOverrides": [{"name": "web", "command": ["x"]}]}) == (
        "InvalidParameterException", "Override for container named web is not a container in the TaskDefinition.",
        400)
    assert error_of(jobs.run, td, networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-0000dead"]}})[
        :2] == ("InvalidParameterException", "Error retrieving subnet information for [subnet-0000dead]: The subnet "
                "ID 'subnet-0000dead' does not exist (ErrorCode: InvalidSubnetID.NotFound)")
    assert error_of(jobs.run, td, propagateTags="SERVICE")[0] == "InvalidParameterException"
    assert jobs.listed(family) == []
    jobs.ecs.deregister_task_definition(taskDefinition=td)
    assert error_of(jobs.run, td) == ("InvalidParameterException", "TaskDefinition is inactive", 400)
    assert jobs.listed(family) == []


def test_pass_role(jobs: Jobs) -> None:
    family, td = jobs.task_definition()
    role = jobs.task_role()
    run_only = [{"Effect": "Allow", "Action": ["ecs:RunTask", "ecs:DescribeTasks", "ecs:ListTasks"],
                 "Resource": "*"}]
    key, secret = jobs.user(run_only)
    denied = jobs.server.client("ecs", key=key, secret=secret)
    code, message, status = error_of(jobs.run, td, ecs=denied, overrides={"taskRoleArn": role})
    assert (code, status) == ("AccessDeniedException", 400)
    assert "iam:PassRole" in message and role in message
    assert jobs.listed(family) == []  # nothing launched

    key, secret = jobs.user([*run_only, {
        "Effect": "Allow", "Action": "iam:PassRole", "Resource": role,
        "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}}])
    allowed = jobs.server.client("ecs", key=key, secret=secret)
    [task] = jobs.run(td, ecs=allowed, overrides={"taskRoleArn": role})["tasks"]
    assert task["overrides"]["taskRoleArn"] == role
    assert jobs.listed(family) == [task["taskArn"]]


def test_client_token(jobs: Jobs) -> None:
    family, td = jobs.task_definition()
    token = jobs.unique("token")
    first = jobs.run(td, count=2, clientToken=token)["tasks"]
    again = jobs.run(td, count=2, clientToken=token)["tasks"]
    assert [t["taskArn"] for t in again] == [t["taskArn"] for t in first]
    assert sorted(jobs.listed(family)) == sorted(t["taskArn"] for t in first)
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        jobs.run(td, count=1, clientToken=token)
    error = info.value.response
    assert error["Error"]["Code"] == "ConflictException"
    assert sorted(error["resourceIds"]) == sorted(t["taskArn"] for t in first)
    assert len(jobs.listed(family)) == 2
    # The token is kept with the tasks: it still answers the same tasks after a restart.
    jobs.server.kill()
    jobs.server.start()
    after = jobs.run(td, count=2, clientToken=token)["tasks"]
    assert [t["taskArn"] for t in after] == [t["taskArn"] for t in first]


def test_run_task_with_the_cli(jobs: Jobs, tmp_path: Path) -> None:
    _, td = jobs.task_definition({"turnout.exit-after": "5", "turnout.exit-code": "0"})
    network = "awsvpcConfiguration={subnets=[" + ",".join(jobs.subnets[:2]) + "],assignPublicIp=DISABLED}"
    ran = cli_ok(aws_cli(jobs.server, tmp_path, "ecs", "run-task", "--cluster", jobs.cluster, "--task-definition",
                         td, "--launch-type", "FARGATE", "--network-configuration", network,
                         "--started-by", "ci"))
    arn = ran["tasks"][0]["taskArn"]
    assert ran["tasks"][0]["lastStatus"] == "PROVISIONING" and ran["failures"] == []
    assert cli_ok(aws_cli(jobs.server, tmp_path, "ecs", "wait", "tasks-stopped", "--cluster", jobs.cluster,
                          "--tasks", arn)) is None
    codes = cli_ok(aws_cli(jobs.server, tmp_path, "ecs", "describe-tasks", "--cluster", jobs.cluster, "--tasks", arn,
                           "--query", "tasks[0].containers[].exitCode"))
    assert codes == [0]
    bad = aws_cli(jobs.server, tmp_path, "ecs", "run-task", "--cluster", jobs.cluster, "--task-definition", td,
                  "--launch-type", "FARGATE")
    assert bad.returncode == CLI_CLIENT_ERROR
    assert "(InvalidParameterException)" in bad.stderr and "Network Configuration must be provided" in bad.stderr


def test_tags_of_a_task(jobs: Jobs) -> None:
    _, td = jobs.task_definition()
    [task] = jobs.run(td, tags=[{"key": "run", "value": "1"}])["tasks"]
    ecs = jobs.ecs
    ecs.tag_resource(resourceArn=task["taskArn"], tags=[{"key": "stage", "value": "ci"}])
    assert ecs.list_tags_for_resource(resourceArn=task["taskArn"])["tags"] == [
        {"key": "run", "value": "1"}, {"key": "stage", "value": "ci"}]
    ecs.untag_resource(resourceArn=task["taskArn"], tagKeys=["run"])
    assert ecs.list_tags_for_resource(resourceArn=task["taskArn"])["tags"] == [{"key": "stage", "value": "ci"}]
    missing = task["taskArn"].rsplit("/", 1)[0] + "/" + "0" * 32
    assert error_of(ecs.list_tags_for_resource, resourceArn=missing)[:2] == (
        "ResourceNotFoundException", "The specified resource could not be found.")
