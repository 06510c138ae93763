// The seed's story end to end with the AWS SDK for JavaScript v3: AWS's page "Amazon ECS infrastructure IAM role
// for load balancers" (the role, its managed policy, a user allowed to pass it), then an ALB with blue and green
// target groups, a BLUE_GREEN ECS service created by that user through the role, a PAUSE hook continued by hand,
// and ECS's own ELB calls found in CloudTrail. The tests of this file run in order and share the state they build.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  AttachRolePolicyCommand,
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  PutUserPolicyCommand,
  waitUntilRoleExists,
  waitUntilUserExists,
} from "@aws-sdk/client-iam";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  waitUntilLoadBalancerAvailable,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  AccessDeniedException,
  ContinueServiceDeploymentCommand,
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
} from "@aws-sdk/client-ecs";
import { CloudTrailClient, paginateLookupEvents } from "@aws-sdk/client-cloudtrail";

import {
  ACCOUNT,
  INFRA_ROLE,
  LB_POLICY,
  PASS_ROLE_STATEMENT,
  TRUST_POLICY,
  collect,
  config,
  credentialsOf,
  poll,
  rejection,
  unique,
  waiter,
} from "./support.mjs";

const iam = new IAMClient(config());
const ec2 = new EC2Client(config());
const elb = new ElasticLoadBalancingV2Client(config());
const ecs = new ECSClient(config());
const cloudtrail = new CloudTrailClient(config());

// What the deployer needs besides PassRole to create and follow its service.
const DEPLOY_STATEMENT = {
  Sid: "DeployServices",
  Effect: "Allow",
  Action: ["ecs:*", "elasticloadbalancing:Describe*", "ec2:Describe*"],
  Resource: "*",
};
const FINAL = new Set(["SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"]);

const state = {};

test("IAM: the infrastructure role with the seed's trust policy and AWS's managed policy", async () => {
  const created = await iam.send(
    new CreateRoleCommand({ RoleName: INFRA_ROLE, AssumeRolePolicyDocument: JSON.stringify(TRUST_POLICY) }),
  );
  assert.equal(created.Role.Arn, `arn:aws:iam::${ACCOUNT}:role/${INFRA_ROLE}`);
  assert.equal(created.Role.Path, "/");
  assert.match(created.Role.RoleId, /^AROA[A-Z0-9]{17}$/);
  assert.ok(created.Role.CreateDate instanceof Date && !Number.isNaN(created.Role.CreateDate.getTime()));
  // IAM answers policy documents URL-encoded (the JS SDK, unlike botocore, leaves them so).
  assert.deepEqual(JSON.parse(decodeURIComponent(created.Role.AssumeRolePolicyDocument)), TRUST_POLICY);
  state.roleArn = created.Role.Arn;

  const waited = await waitUntilRoleExists(waiter(iam), { RoleName: INFRA_ROLE });
  assert.equal(waited.state, "SUCCESS");

  await iam.send(new AttachRolePolicyCommand({ RoleName: INFRA_ROLE, PolicyArn: LB_POLICY }));
  const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: INFRA_ROLE }));
  assert.deepEqual(attached.AttachedPolicies, [
    { PolicyName: "AmazonECSInfrastructureRolePolicyForLoadBalancers", PolicyArn: LB_POLICY },
  ]);
  const version = await iam.send(new GetPolicyVersionCommand({ PolicyArn: LB_POLICY, VersionId: "v6" }));
  const document = JSON.parse(decodeURIComponent(version.PolicyVersion.Document));
  const actions = document.Statement.flatMap((s) => [].concat(s.Action ?? []));
  assert.ok(actions.includes("elasticloadbalancing:ModifyRule"), JSON.stringify(actions));
  assert.ok(actions.includes("elasticloadbalancing:ModifyListener"), JSON.stringify(actions));
});

test("IAM: a user allowed iam:PassRole to ECS only, with an access key", async () => {
  const name = unique("js-deployer");
  const user = await iam.send(new CreateUserCommand({ UserName: name }));
  assert.equal(user.User.Arn, `arn:aws:iam::${ACCOUNT}:user/${name}`);
  assert.match(user.User.UserId, /^AIDA[A-Z0-9]{17}$/);
  assert.equal((await waitUntilUserExists(waiter(iam), { UserName: name })).state, "SUCCESS");
  // First without PassRole: the service creation below must be refused.
  await iam.send(new PutUserPolicyCommand({
    UserName: name,
    PolicyName: "deploy",
    PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [DEPLOY_STATEMENT] }),
  }));
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  assert.match(key.AccessKey.AccessKeyId, /^AKIA[A-Z0-9]{16}$/);
  assert.equal(key.AccessKey.Status, "Active");
  assert.equal(key.AccessKey.UserName, name);
  state.user = { name, arn: user.User.Arn, userId: user.User.UserId, credentials: credentialsOf(key.AccessKey) };
});

test("STS: GetCallerIdentity and AssumeRole as that user", async () => {
  const root = await new STSClient(config()).send(new GetCallerIdentityCommand({}));
  assert.deepEqual([root.Account, root.Arn], [ACCOUNT, `arn:aws:iam::${ACCOUNT}:root`]);
  const asUser = new STSClient(config(state.user.credentials));
  const me = await asUser.send(new GetCallerIdentityCommand({}));
  assert.deepEqual([me.Account, me.Arn, me.UserId], [ACCOUNT, state.user.arn, state.user.userId]);

  // A role the account trusts; the user may assume it by its own policy.
  const roleName = unique("js-reader");
  const role = await iam.send(new CreateRoleCommand({
    RoleName: roleName,
    AssumeRolePolicyDocument: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "sts:AssumeRole" }],
    }),
  }));
  await iam.send(new PutUserPolicyCommand({
    UserName: state.user.name,
    PolicyName: "assume",
    PolicyDocument: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: role.Role.Arn }],
    }),
  }));
  const assumed = await asUser.send(new AssumeRoleCommand({ RoleArn: role.Role.Arn, RoleSessionName: "js-session",
    DurationSeconds: 900 }));
  assert.equal(assumed.AssumedRoleUser.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/js-session`);
  assert.match(assumed.Credentials.AccessKeyId, /^ASIA[A-Z0-9]{16}$/);
  assert.ok(assumed.Credentials.Expiration instanceof Date);
  const lifetime = assumed.Credentials.Expiration.getTime() - Date.now();
  assert.ok(lifetime > 840_000 && lifetime <= 900_000, `expires in ${lifetime} ms`);
  const session = await new STSClient(config(credentialsOf(assumed.Credentials))).send(new GetCallerIdentityCommand({}));
  assert.equal(session.Arn, assumed.AssumedRoleUser.Arn);
  assert.equal(session.UserId, assumed.AssumedRoleUser.AssumedRoleId);
  assert.equal(session.UserId, `${role.Role.RoleId}:js-session`);
});

test("EC2: the default VPC, its subnets and a security group", async () => {
  const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }));
  assert.equal(vpcs.Vpcs.length, 1);
  const vpc = vpcs.Vpcs[0];
  assert.deepEqual([vpc.IsDefault, vpc.CidrBlock, vpc.State], [true, "172.31.0.0/16", "available"]);
  const subnets = await ec2.send(new DescribeSubnetsCommand({
    Filters: [{ Name: "vpc-id", Values: [vpc.VpcId] }, { Name: "default-for-az", Values: ["true"] }],
  }));
  assert.ok(subnets.Subnets.length >= 2);
  for (const subnet of subnets.Subnets) {
    assert.equal(subnet.VpcId, vpc.VpcId);
    assert.equal(subnet.DefaultForAz, true);
    assert.equal(subnet.MapPublicIpOnLaunch, true);
    assert.match(subnet.AvailabilityZone, /^us-east-1[a-z]$/);
  }
  const name = unique("js-web");
  const group = await ec2.send(new CreateSecurityGroupCommand({
    GroupName: name, Description: "web from anywhere", VpcId: vpc.VpcId,
  }));
  assert.match(group.GroupId, /^sg-[0-9a-f]{17}$/);
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({
    GroupId: group.GroupId,
    IpPermissions: [{ IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
  }));
  const described = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [group.GroupId] }));
  const sg = described.SecurityGroups[0];
  assert.deepEqual([sg.GroupName, sg.VpcId, sg.OwnerId], [name, vpc.VpcId, ACCOUNT]);
  assert.deepEqual(sg.IpPermissions.map((p) => [p.IpProtocol, p.FromPort, p.ToPort, p.IpRanges.map((r) => r.CidrIp)]),
    [["tcp", 80, 80, ["0.0.0.0/0"]]]);
  state.vpc = vpc.VpcId;
  state.subnets = subnets.Subnets.map((s) => s.SubnetId).sort().slice(0, 2);
  state.securityGroup = group.GroupId;
});

test("ELBv2: an ALB, blue and green target groups, production and test listeners and rules", async () => {
  const name = unique("js-alb").slice(-32);
  const created = await elb.send(new CreateLoadBalancerCommand({
    Name: name, Subnets: state.subnets, SecurityGroups: [state.securityGroup], Type: "application",
  }));
  const lb = created.LoadBalancers[0];
  assert.match(lb.LoadBalancerArn, new RegExp(`^arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:loadbalancer/app/${name}/[0-9a-f]{16}$`));
  assert.equal(lb.VpcId, state.vpc);
  assert.deepEqual(lb.SecurityGroups, [state.securityGroup]);
  assert.ok(lb.CreatedTime instanceof Date);
  assert.equal((await waitUntilLoadBalancerAvailable(waiter(elb), { LoadBalancerArns: [lb.LoadBalancerArn] })).state,
    "SUCCESS");

  const groups = [];
  for (const color of ["blue", "green"]) {
    const tg = await elb.send(new CreateTargetGroupCommand({
      Name: unique(`js-${color}`).slice(-32), Protocol: "HTTP", Port: 80, VpcId: state.vpc, TargetType: "ip",
      HealthCheckIntervalSeconds: 5, HealthCheckTimeoutSeconds: 2, HealthyThresholdCount: 2,
    }));
    assert.equal(tg.TargetGroups[0].TargetType, "ip");
    assert.equal(tg.TargetGroups[0].HealthCheckIntervalSeconds, 5);
    groups.push(tg.TargetGroups[0].TargetGroupArn);
  }
  const [blue, green] = groups;
  const fixed = [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "404" } }];
  const production = await elb.send(new CreateListenerCommand({
    LoadBalancerArn: lb.LoadBalancerArn, Protocol: "HTTP", Port: 80, DefaultActions: fixed,
  }));
  const productionRule = await elb.send(new CreateRuleCommand({
    ListenerArn: production.Listeners[0].ListenerArn, Priority: 1,
    Conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: ["/*"] } }],
    Actions: [{ Type: "forward", ForwardConfig: { TargetGroups: [
      { TargetGroupArn: blue, Weight: 100 }, { TargetGroupArn: green, Weight: 0 }] } }],
  }));
  const testListener = await elb.send(new CreateListenerCommand({
    LoadBalancerArn: lb.LoadBalancerArn, Protocol: "HTTP", Port: 8080, DefaultActions: fixed,
  }));
  const testRule = await elb.send(new CreateRuleCommand({
    ListenerArn: testListener.Listeners[0].ListenerArn, Priority: 1,
    Conditions: [{ Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "X-Environment", Values: ["test"] } }],
    Actions: [{ Type: "forward", TargetGroupArn: green }],
  }));
  assert.equal(productionRule.Rules[0].Priority, "1");
  assert.equal(productionRule.Rules[0].IsDefault, false);
  assert.deepEqual(testRule.Rules[0].Conditions[0].HttpHeaderConfig, { HttpHeaderName: "X-Environment",
    Values: ["test"] });
  Object.assign(state, { lb: lb.LoadBalancerArn, blue, green, productionRule: productionRule.Rules[0].RuleArn,
    testRule: testRule.Rules[0].RuleArn });
  assert.deepEqual(await weights(state.productionRule), { [blue]: 100, [green]: 0 });
});

test("ECS: the deployer's BLUE_GREEN service through the infrastructure role, paused and continued", async () => {
  state.cluster = unique("js-cluster");
  const cluster = await ecs.send(new CreateClusterCommand({ clusterName: state.cluster }));
  assert.equal(cluster.cluster.status, "ACTIVE");
  state.revisions = [];
  const family = unique("js-web");
  for (const tag of ["1.27", "1.28"]) {
    const td = await ecs.send(new RegisterTaskDefinitionCommand({
      family, networkMode: "awsvpc", requiresCompatibilities: ["FARGATE"], cpu: "256", memory: "512",
      containerDefinitions: [{ name: "web", image: `public.ecr.aws/nginx/nginx:${tag}`, essential: true,
        portMappings: [{ containerPort: 80, protocol: "tcp" }] }],
    }));
    assert.equal(td.taskDefinition.revision, state.revisions.length + 1);
    state.revisions.push(td.taskDefinition.taskDefinitionArn);
  }

  const deployer = new ECSClient(config(state.user.credentials));
  const service = {
    cluster: state.cluster, serviceName: "web", taskDefinition: state.revisions[0], desiredCount: 2,
    launchType: "FARGATE",
    networkConfiguration: { awsvpcConfiguration: { subnets: state.subnets, securityGroups: [state.securityGroup] } },
    loadBalancers: [{ targetGroupArn: state.blue, containerName: "web", containerPort: 80, advancedConfiguration: {
      alternateTargetGroupArn: state.green, productionListenerRule: state.productionRule,
      testListenerRule: state.testRule, roleArn: state.roleArn } }],
    deploymentConfiguration: { strategy: "BLUE_GREEN", bakeTimeInMinutes: 0 },
  };
  // Without iam:PassRole the user is refused, as on AWS, and nothing is created.
  const refused = await rejection(deployer.send(new CreateServiceCommand(service)));
  assert.ok(refused instanceof AccessDeniedException, refused.name);
  assert.equal(refused.name, "AccessDeniedException");
  assert.equal(refused.$metadata.httpStatusCode, 400);
  assert.equal(refused.message, `User: ${state.user.arn} is not authorized to perform: iam:PassRole on resource: `
    + `${state.roleArn} because no identity-based policy allows the iam:PassRole action`);
  const none = await ecs.send(new DescribeServicesCommand({ cluster: state.cluster, services: ["web"] }));
  assert.deepEqual(none.services, []);
  assert.equal(none.failures[0].reason, "MISSING");

  await iam.send(new PutUserPolicyCommand({
    UserName: state.user.name, PolicyName: "deploy",
    PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [PASS_ROLE_STATEMENT, DEPLOY_STATEMENT] }),
  }));
  const created = await deployer.send(new CreateServiceCommand({
    ...service,
    deploymentConfiguration: { strategy: "BLUE_GREEN", bakeTimeInMinutes: 0,
      lifecycleHooks: [{ targetType: "PAUSE", lifecycleStages: ["POST_SCALE_UP"] }] },
  }));
  assert.equal(created.service.deploymentConfiguration.strategy, "BLUE_GREEN");
  assert.equal(created.service.loadBalancers[0].advancedConfiguration.roleArn, state.roleArn);
  const first = created.service.currentServiceDeployment;
  assert.match(first, new RegExp(`^arn:aws:ecs:us-east-1:${ACCOUNT}:service-deployment/${state.cluster}/web/`));
  const hookId = await awaitingHook(deployer, first, "POST_SCALE_UP");
  await deployer.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: first, hookId, action: "CONTINUE" }));
  const done = await finished(deployer, first);
  assert.equal(done.status, "SUCCESSFUL", done.statusReason);
  assert.equal(done.lifecycleHookDetails?.[0]?.status, "SUCCEEDED");
  // The first revision went to the alternate group and production follows it.
  assert.deepEqual(await weights(state.productionRule), { [state.blue]: 0, [state.green]: 100 });

  const stable = await waitUntilServicesStable(waiter(deployer), { cluster: state.cluster, services: ["web"] });
  assert.equal(stable.state, "SUCCESS");
  const [described] = stable.reason.services;
  assert.deepEqual([described.runningCount, described.desiredCount, described.deployments.length], [2, 2, 1]);
});

test("ECS: a second deployment shifts test traffic, pauses, then shifts production", async () => {
  const deployer = new ECSClient(config(state.user.credentials));
  const updated = await deployer.send(new UpdateServiceCommand({
    cluster: state.cluster, service: "web", taskDefinition: state.revisions[1],
    deploymentConfiguration: { strategy: "BLUE_GREEN", bakeTimeInMinutes: 0,
      lifecycleHooks: [{ targetType: "PAUSE", lifecycleStages: ["POST_TEST_TRAFFIC_SHIFT"] }] },
  }));
  const arn = updated.service.currentServiceDeployment;
  const hookId = await awaitingHook(deployer, arn, "POST_TEST_TRAFFIC_SHIFT");
  // Paused after the test traffic shift: the test rule forwards to the new revision's group (blue now),
  // production still to green.
  assert.deepEqual(await weights(state.testRule), { [state.blue]: 100, [state.green]: 0 });
  assert.deepEqual(await weights(state.productionRule), { [state.blue]: 0, [state.green]: 100 });
  await deployer.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId, action: "CONTINUE" }));
  const done = await finished(deployer, arn);
  assert.equal(done.status, "SUCCESSFUL", done.statusReason);
  assert.match(done.targetServiceRevision.arn,
    new RegExp(`^arn:aws:ecs:us-east-1:${ACCOUNT}:service-revision/${state.cluster}/web/[0-9]+$`));
  assert.ok(done.finishedAt instanceof Date && done.finishedAt >= done.startedAt);
  assert.deepEqual(await weights(state.productionRule), { [state.blue]: 100, [state.green]: 0 });
  state.deployment = arn;
});

test("CloudTrail: LookupEvents finds ECS's calls as ECSNetworkingWithELB", async () => {
  const { items, pages } = await collect(paginateLookupEvents({ client: cloudtrail, pageSize: 2 }, {
    LookupAttributes: [{ AttributeKey: "Username", AttributeValue: "ECSNetworkingWithELB" }],
  }), "Events");
  assert.ok(pages > 1, `one page only (${items.length} events)`);
  assert.ok(items.every((e) => e.Username === "ECSNetworkingWithELB"));
  const records = items.map((e) => JSON.parse(e.CloudTrailEvent));
  const session = `arn:aws:sts::${ACCOUNT}:assumed-role/${INFRA_ROLE}/ECSNetworkingWithELB`;
  const productionShifts = records.filter((r) => r.eventName === "ModifyRule"
    && r.requestParameters.ruleArn === state.productionRule);
  assert.ok(productionShifts.length >= 2, JSON.stringify(records.map((r) => r.eventName)));
  for (const record of productionShifts) {
    assert.equal(record.eventSource, "elasticloadbalancing.amazonaws.com");
    assert.equal(record.userIdentity.type, "AssumedRole");
    assert.equal(record.userIdentity.arn, session);
    assert.equal(record.userIdentity.invokedBy, "ecs.amazonaws.com");
    assert.equal(record.userIdentity.sessionContext.sessionIssuer.arn, state.roleArn);
    assert.equal(record.errorCode, undefined);
  }
  // Newest first, as LookupEvents answers.
  const times = items.map((e) => e.EventTime.getTime());
  assert.deepEqual(times, [...times].sort((a, b) => b - a));
});

async function weights(ruleArn) {
  const rule = (await elb.send(new DescribeRulesCommand({ RuleArns: [ruleArn] }))).Rules[0];
  const forward = rule.Actions.find((a) => a.Type === "forward");
  return Object.fromEntries(forward.ForwardConfig.TargetGroups.map((g) => [g.TargetGroupArn, g.Weight ?? 1]));
}

async function deployment(client, arn) {
  const answer = await client.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }));
  return answer.serviceDeployments[0];
}

async function awaitingHook(client, arn, stage) {
  return poll(async () => {
    const found = await deployment(client, arn);
    if (FINAL.has(found.status)) assert.fail(`ended ${found.status} (${found.statusReason}) before ${stage}`);
    const hook = (found.lifecycleHookDetails ?? []).find((h) => h.status === "AWAITING_ACTION");
    return { done: found.lifecycleStage === stage && hook !== undefined, value: hook?.hookId ?? found };
  }, `a PAUSE hook awaiting action at ${stage}`);
}

async function finished(client, arn) {
  return poll(async () => {
    const found = await deployment(client, arn);
    return { done: FINAL.has(found.status), value: found };
  }, `deployment ${arn} finished`);
}
