// Elastic Load Balancing v2 through the JS SDK: paginators (Marker/PageSize), waiters on load balancers and target
// health, and modelled errors as the SDK's exception classes.
import assert from "node:assert/strict";
import { test } from "node:test";

import { DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  DeregisterTargetsCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  DuplicateTargetGroupNameException,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
  LoadBalancerNotFoundException,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
  TargetGroupNotFoundException,
  paginateDescribeLoadBalancers,
  paginateDescribeRules,
  paginateDescribeTargetGroups,
  waitUntilLoadBalancerAvailable,
  waitUntilLoadBalancersDeleted,
  waitUntilTargetDeregistered,
  waitUntilTargetInService,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from "@aws-sdk/client-iam";

import { ACCOUNT, collect, config, credentialsOf, rejection, unique, waiter } from "./support.mjs";

const elb = new ElasticLoadBalancingV2Client(config());
const ec2 = new EC2Client(config());

async function network() {
  const vpc = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] })))
    .Vpcs[0].VpcId;
  const subnets = (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpc] }] })))
    .Subnets.sort((a, b) => a.AvailabilityZone.localeCompare(b.AvailabilityZone));
  return { vpc, subnets: subnets.slice(0, 2).map((s) => s.SubnetId), cidr: subnets[0].CidrBlock };
}

async function targetGroup(vpc, prefix = "js-tg") {
  const answer = await elb.send(new CreateTargetGroupCommand({
    Name: unique(prefix).slice(-32), Protocol: "HTTP", Port: 80, VpcId: vpc, TargetType: "ip",
    HealthCheckIntervalSeconds: 5, HealthCheckTimeoutSeconds: 2, HealthyThresholdCount: 2,
  }));
  return answer.TargetGroups[0];
}

async function loadBalancer(subnets) {
  const answer = await elb.send(new CreateLoadBalancerCommand({ Name: unique("js-lb").slice(-32), Subnets: subnets }));
  return answer.LoadBalancers[0];
}

// These paginators have no page-size key in ELB's model (the JS SDK ignores `pageSize`): PageSize goes in the input.
test("paginateDescribeTargetGroups, paginateDescribeLoadBalancers and paginateDescribeRules page with Marker",
  async () => {
    const { vpc, subnets } = await network();
    const mine = [];
    for (let i = 0; i < 3; i += 1) mine.push((await targetGroup(vpc)).TargetGroupArn);
    const groups = await collect(paginateDescribeTargetGroups({ client: elb }, { PageSize: 1 }), "TargetGroups");
    assert.ok(groups.pages >= 3, `${groups.pages} pages`);
    assert.equal(groups.pages, groups.items.length);
    const arns = groups.items.map((g) => g.TargetGroupArn);
    assert.equal(new Set(arns).size, arns.length);
    for (const arn of mine) assert.ok(arns.includes(arn), arn);

    const lbs = [await loadBalancer(subnets), await loadBalancer(subnets)].map((lb) => lb.LoadBalancerArn);
    const listed = await collect(paginateDescribeLoadBalancers({ client: elb }, { PageSize: 1 }), "LoadBalancers");
    assert.equal(listed.pages, listed.items.length);
    for (const arn of lbs) assert.ok(listed.items.some((lb) => lb.LoadBalancerArn === arn), arn);

    const listener = (await elb.send(new CreateListenerCommand({ LoadBalancerArn: lbs[0], Protocol: "HTTP", Port: 80,
      DefaultActions: [{ Type: "forward", TargetGroupArn: mine[0] }] }))).Listeners[0].ListenerArn;
    for (const [priority, path] of [[10, "/a/*"], [20, "/b/*"]]) {
      await elb.send(new CreateRuleCommand({ ListenerArn: listener, Priority: priority,
        Conditions: [{ Field: "path-pattern", Values: [path] }],
        Actions: [{ Type: "forward", TargetGroupArn: mine[priority / 10] }] }));
    }
    const rules = await collect(paginateDescribeRules({ client: elb },
      { ListenerArn: listener, PageSize: 1 }), "Rules");
    assert.equal(rules.pages, 3);
    assert.deepEqual(rules.items.map((r) => [r.Priority, r.IsDefault]), [["10", false], ["20", false],
      ["default", true]]);
    assert.deepEqual(rules.items[0].Conditions[0].PathPatternConfig.Values, ["/a/*"]);
  });

test("waiters: load balancer available, target in service, target deregistered, load balancers deleted", async () => {
  const { vpc, subnets, cidr } = await network();
  const lb = await loadBalancer(subnets);
  const available = await waitUntilLoadBalancerAvailable(waiter(elb), { LoadBalancerArns: [lb.LoadBalancerArn] });
  assert.equal(available.state, "SUCCESS");
  assert.equal(available.reason.LoadBalancers[0].State.Code, "active");

  const tg = await targetGroup(vpc);
  await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn,
    Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "5" }] }));
  await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: "HTTP", Port: 80,
    DefaultActions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn }] }));
  const ip = cidr.replace(/\.0\/\d+$/, ".10");
  const targets = [{ Id: ip, Port: 80 }];
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: targets }));
  const first = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }));
  assert.equal(first.TargetHealthDescriptions[0].Target.Id, ip);
  const healthy = await waitUntilTargetInService(waiter(elb), { TargetGroupArn: tg.TargetGroupArn, Targets: targets });
  assert.equal(healthy.state, "SUCCESS");
  assert.equal(healthy.reason.TargetHealthDescriptions[0].TargetHealth.State, "healthy");

  await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: targets }));
  const gone = await waitUntilTargetDeregistered(waiter(elb), { TargetGroupArn: tg.TargetGroupArn, Targets: targets });
  assert.equal(gone.state, "SUCCESS");

  await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
  const deleted = await waitUntilLoadBalancersDeleted(waiter(elb), { LoadBalancerArns: [lb.LoadBalancerArn] });
  assert.equal(deleted.state, "SUCCESS");
});

test("missing resources are the SDK's modelled exceptions", async () => {
  const { vpc } = await network();
  const lbArn = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:loadbalancer/app/js-none/0123456789abcdef`;
  const noLb = await rejection(elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lbArn] })));
  assert.ok(noLb instanceof LoadBalancerNotFoundException, noLb.name);
  assert.ok(noLb instanceof ElasticLoadBalancingV2ServiceException);
  assert.equal(noLb.name, "LoadBalancerNotFoundException");
  assert.equal(noLb.Code, "LoadBalancerNotFound");
  assert.equal(noLb.message, "One or more load balancers not found");
  assert.equal(noLb.$metadata.httpStatusCode, 400);

  const noTg = await rejection(elb.send(new DescribeTargetGroupsCommand({ Names: ["js-no-such-group"] })));
  assert.ok(noTg instanceof TargetGroupNotFoundException, noTg.name);
  assert.equal(noTg.message, "One or more target groups not found");

  const tg = await targetGroup(vpc);
  const duplicate = await rejection(elb.send(new CreateTargetGroupCommand({ Name: tg.TargetGroupName,
    Protocol: "HTTP", Port: 8080, VpcId: vpc, TargetType: "ip" })));
  assert.ok(duplicate instanceof DuplicateTargetGroupNameException, duplicate.name);
  assert.equal(duplicate.$metadata.httpStatusCode, 400);
});

test("a user without permissions is AccessDenied (403)", async () => {
  const iam = new IAMClient(config());
  const name = unique("js-nobody");
  const user = await iam.send(new CreateUserCommand({ UserName: name }));
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  const client = new ElasticLoadBalancingV2Client(config(credentialsOf(key.AccessKey)));
  const error = await rejection(client.send(new DescribeLoadBalancersCommand({})));
  assert.equal(error.name, "AccessDenied");
  assert.equal(error.$metadata.httpStatusCode, 403);
  assert.equal(error.message, `User: ${user.User.Arn} is not authorized to perform: `
    + "elasticloadbalancing:DescribeLoadBalancers because no identity-based policy allows the "
    + "elasticloadbalancing:DescribeLoadBalancers action");
});
