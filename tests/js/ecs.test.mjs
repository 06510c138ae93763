// ECS through the JS SDK (JSON 1.1): paginators (nextToken/maxResults), task waiters on a one-off job, service
// waiters, and errors as the SDK's exception classes.
import assert from "node:assert/strict";
import { test } from "node:test";

import { DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  AccessDeniedException,
  ClientException,
  ClusterNotFoundException,
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ECSServiceException,
  InvalidParameterException,
  ListClustersCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  ServiceNotFoundException,
  StopTaskCommand,
  UpdateServiceCommand,
  paginateListClusters,
  paginateListTaskDefinitions,
  waitUntilServicesInactive,
  waitUntilServicesStable,
  waitUntilTasksRunning,
  waitUntilTasksStopped,
} from "@aws-sdk/client-ecs";
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from "@aws-sdk/client-iam";

import { ACCOUNT, collect, config, credentialsOf, rejection, unique, waiter } from "./support.mjs";

const ecs = new ECSClient(config());
const ec2 = new EC2Client(config());

async function subnets() {
  const vpc = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] })))
    .Vpcs[0].VpcId;
  const found = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpc] }] }));
  return found.Subnets.map((s) => s.SubnetId).sort().slice(0, 2);
}

async function taskDefinition(family, labels) {
  const container = { name: "job", image: "public.ecr.aws/docker/library/busybox:1.36", essential: true,
    command: ["sleep", "30"] };
  if (labels) container.dockerLabels = labels;
  const answer = await ecs.send(new RegisterTaskDefinitionCommand({ family, networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"], cpu: "256", memory: "512", containerDefinitions: [container] }));
  return answer.taskDefinition;
}

test("paginateListTaskDefinitions and paginateListClusters page with nextToken", async () => {
  const family = unique("js-family");
  const arns = [];
  for (let i = 0; i < 5; i += 1) arns.push((await taskDefinition(family)).taskDefinitionArn);
  assert.equal(arns[4], `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/${family}:5`);
  const listed = await collect(paginateListTaskDefinitions({ client: ecs, pageSize: 2 }, { familyPrefix: family }),
    "taskDefinitionArns");
  assert.equal(listed.pages, 3);
  assert.deepEqual(listed.items, arns);
  const newestFirst = await collect(paginateListTaskDefinitions({ client: ecs, pageSize: 2 },
    { familyPrefix: family, sort: "DESC" }), "taskDefinitionArns");
  assert.deepEqual(newestFirst.items, [...arns].reverse());

  const clusters = [unique("js-c"), unique("js-c"), unique("js-c")];
  for (const name of clusters) await ecs.send(new CreateClusterCommand({ clusterName: name }));
  const all = await collect(paginateListClusters({ client: ecs, pageSize: 1 }, {}), "clusterArns");
  assert.equal(all.pages, all.items.length);
  for (const name of clusters) {
    assert.ok(all.items.includes(`arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/${name}`), name);
  }
});

test("a task: waitUntilTasksRunning, StopTask, waitUntilTasksStopped", async () => {
  const cluster = unique("js-tasks");
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const td = await taskDefinition(unique("js-task"));
  const run = await ecs.send(new RunTaskCommand({ cluster, taskDefinition: td.taskDefinitionArn, launchType: "FARGATE",
    networkConfiguration: { awsvpcConfiguration: { subnets: await subnets() } } }));
  assert.deepEqual(run.failures, []);
  const arn = run.tasks[0].taskArn;
  assert.match(arn, new RegExp(`^arn:aws:ecs:us-east-1:${ACCOUNT}:task/${cluster}/[0-9a-f]{32}$`));
  assert.ok(run.tasks[0].createdAt instanceof Date);
  const running = await waitUntilTasksRunning(waiter(ecs), { cluster, tasks: [arn] });
  assert.equal(running.state, "SUCCESS");
  assert.equal(running.reason.tasks[0].lastStatus, "RUNNING");
  const stopping = await ecs.send(new StopTaskCommand({ cluster, task: arn, reason: "js says stop" }));
  assert.equal(stopping.task.desiredStatus, "STOPPED");
  const stopped = await waitUntilTasksStopped(waiter(ecs), { cluster, tasks: [arn] });
  assert.equal(stopped.state, "SUCCESS");
  const [task] = stopped.reason.tasks;
  assert.deepEqual([task.lastStatus, task.stopCode, task.stoppedReason], ["STOPPED", "UserInitiated", "js says stop"]);
  assert.ok(task.stoppedAt instanceof Date && task.stoppedAt >= task.startedAt);
});

test("a one-off job: waitUntilTasksStopped, and the essential container's exit code", async () => {
  const cluster = unique("js-jobs");
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const td = await taskDefinition(unique("js-job"), { "turnout.exit-after": "5", "turnout.exit-code": "3" });
  const run = await ecs.send(new RunTaskCommand({ cluster, taskDefinition: td.taskDefinitionArn, launchType: "FARGATE",
    networkConfiguration: { awsvpcConfiguration: { subnets: await subnets() } } }));
  const arn = run.tasks[0].taskArn;
  const stopped = await waitUntilTasksStopped(waiter(ecs), { cluster, tasks: [arn] });
  assert.equal(stopped.state, "SUCCESS");
  const [task] = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [arn] }))).tasks;
  assert.deepEqual([task.lastStatus, task.stopCode, task.stoppedReason],
    ["STOPPED", "EssentialContainerExited", "Essential container in task exited"]);
  assert.deepEqual([task.containers[0].exitCode, task.containers[0].reason], [3, "Essential container exited"]);
});

test("a rolling service: waitUntilServicesStable, then deleted and waitUntilServicesInactive", async () => {
  const cluster = unique("js-svc");
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const td = await taskDefinition(unique("js-app"));
  const created = await ecs.send(new CreateServiceCommand({ cluster, serviceName: "app",
    taskDefinition: td.taskDefinitionArn, desiredCount: 2, launchType: "FARGATE",
    networkConfiguration: { awsvpcConfiguration: { subnets: await subnets() } } }));
  assert.equal(created.service.deploymentController.type, "ECS");
  const stable = await waitUntilServicesStable(waiter(ecs), { cluster, services: ["app"] });
  assert.equal(stable.state, "SUCCESS");
  assert.equal(stable.reason.services[0].runningCount, 2);

  await ecs.send(new UpdateServiceCommand({ cluster, service: "app", desiredCount: 0 }));
  const deleted = await ecs.send(new DeleteServiceCommand({ cluster, service: "app" }));
  assert.equal(deleted.service.status, "DRAINING");
  const inactive = await waitUntilServicesInactive(waiter(ecs), { cluster, services: ["app"] });
  assert.equal(inactive.state, "SUCCESS");
});

test("errors: ClusterNotFoundException, ServiceNotFoundException, InvalidParameterException, ClientException",
  async () => {
    const noCluster = await rejection(ecs.send(new DescribeServicesCommand({ cluster: "js-no-such-cluster",
      services: ["web"] })));
    assert.ok(noCluster instanceof ClusterNotFoundException, noCluster.name);
    assert.ok(noCluster instanceof ECSServiceException);
    assert.equal(noCluster.name, "ClusterNotFoundException");
    assert.equal(noCluster.message, "Cluster not found.");
    assert.equal(noCluster.$fault, "client");
    assert.equal(noCluster.$metadata.httpStatusCode, 400);
    assert.match(noCluster.$metadata.requestId, /^[0-9a-f-]{36}$/);

    const cluster = unique("js-errors");
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const noService = await rejection(ecs.send(new UpdateServiceCommand({ cluster, service: "nothing",
      desiredCount: 1 })));
    assert.ok(noService instanceof ServiceNotFoundException, noService.name);
    assert.equal(noService.message, "Service not found.");

    const td = await taskDefinition(unique("js-err"));
    const badCount = await rejection(ecs.send(new RunTaskCommand({ cluster, taskDefinition: td.taskDefinitionArn,
      count: 11, launchType: "FARGATE", networkConfiguration: { awsvpcConfiguration: { subnets: await subnets() } } })));
    assert.ok(badCount instanceof InvalidParameterException, badCount.name);
    assert.equal(badCount.message, "count must be between 1 and 10.");

    const noTd = await rejection(ecs.send(new RunTaskCommand({ cluster, taskDefinition: unique("js-nothing") })));
    assert.ok(noTd instanceof ClientException, noTd.name);
    assert.equal(noTd.message, "TaskDefinition not found.");
  });

test("a user without permissions is AccessDeniedException (400)", async () => {
  const iam = new IAMClient(config());
  const name = unique("js-nobody");
  const user = await iam.send(new CreateUserCommand({ UserName: name }));
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  const client = new ECSClient(config(credentialsOf(key.AccessKey)));
  const error = await rejection(client.send(new ListClustersCommand({})));
  assert.ok(error instanceof AccessDeniedException, error.name);
  assert.equal(error.$metadata.httpStatusCode, 400);
  // AWS's ECS names the wildcard: "... is not authorized to perform: ecs:ListClusters on resource: *" (quoted in
  // gruntwork-io/cloud-nuke#106; "ecs:ListTasks on resource: * because no identity-based policy allows ..." in
  // cdklabs/construct-hub#1207), while ELB, EC2 and CloudTrail leave it out.
  assert.equal(error.message, `User: ${user.User.Arn} is not authorized to perform: ecs:ListClusters`
    + " on resource: * because no identity-based policy allows the ecs:ListClusters action");
});
