// EC2 networking through the JS SDK (the ec2 query protocol: its own list names and error envelope).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
  EC2ServiceException,
  paginateDescribeSecurityGroups,
  paginateDescribeSubnets,
  waitUntilSecurityGroupExists,
} from "@aws-sdk/client-ec2";
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from "@aws-sdk/client-iam";

import { ACCOUNT, collect, config, credentialsOf, rejection, unique, waiter } from "./support.mjs";

const ec2 = new EC2Client(config());

async function defaultVpc() {
  const answer = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }));
  return answer.Vpcs[0].VpcId;
}

test("paginateDescribeSubnets and paginateDescribeSecurityGroups page with NextToken", async () => {
  const vpc = await defaultVpc();
  const subnets = await collect(paginateDescribeSubnets({ client: ec2, pageSize: 5 },
    { Filters: [{ Name: "vpc-id", Values: [vpc] }] }), "Subnets");
  assert.ok(subnets.items.length > 5, `${subnets.items.length} default subnets`);
  assert.equal(subnets.pages, Math.ceil(subnets.items.length / 5));
  assert.equal(new Set(subnets.items.map((s) => s.SubnetId)).size, subnets.items.length);

  const marker = unique("js-paged");
  const made = [];
  for (let i = 0; i < 7; i += 1) {
    const group = await ec2.send(new CreateSecurityGroupCommand({
      GroupName: `${marker}-${i}`, Description: "paged", VpcId: vpc,
      TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: "batch", Value: marker }] }],
    }));
    made.push(group.GroupId);
  }
  const groups = await collect(paginateDescribeSecurityGroups({ client: ec2, pageSize: 5 },
    { Filters: [{ Name: "tag:batch", Values: [marker] }] }), "SecurityGroups");
  assert.equal(groups.pages, 2);
  assert.deepEqual(groups.items.map((g) => g.GroupId).sort(), [...made].sort());
  for (const group of groups.items) {
    assert.deepEqual(group.Tags, [{ Key: "batch", Value: marker }]);
    assert.equal(group.OwnerId, ACCOUNT);
    // A new group allows all egress, as on AWS.
    assert.deepEqual(group.IpPermissionsEgress.map((p) => [p.IpProtocol, p.IpRanges.map((r) => r.CidrIp)]),
      [["-1", ["0.0.0.0/0"]]]);
  }
});

test("waitUntilSecurityGroupExists succeeds for a group, and a deleted one is InvalidGroup.NotFound", async () => {
  const vpc = await defaultVpc();
  const group = await ec2.send(new CreateSecurityGroupCommand({ GroupName: unique("js-wait"), Description: "w",
    VpcId: vpc }));
  const waited = await waitUntilSecurityGroupExists(waiter(ec2, 20), { GroupIds: [group.GroupId] });
  assert.equal(waited.state, "SUCCESS");
  await ec2.send(new DeleteSecurityGroupCommand({ GroupId: group.GroupId }));
  const error = await rejection(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [group.GroupId] })));
  assert.ok(error instanceof EC2ServiceException);
  assert.equal(error.name, "InvalidGroup.NotFound");
  assert.equal(error.message, `The security group '${group.GroupId}' does not exist`);
  assert.equal(error.$fault, "client");
  assert.equal(error.$metadata.httpStatusCode, 400);
  assert.match(error.$metadata.requestId, /^[0-9a-f-]{36}$/);
});

test("a duplicate group name is InvalidGroup.Duplicate; a missing parameter MissingParameter", async () => {
  const vpc = await defaultVpc();
  const name = unique("js-dup");
  await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: "one", VpcId: vpc }));
  const duplicate = await rejection(ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: "two",
    VpcId: vpc })));
  assert.equal(duplicate.name, "InvalidGroup.Duplicate");
  assert.equal(duplicate.message, `The security group '${name}' already exists for VPC '${vpc}'`);
  assert.equal(duplicate.$metadata.httpStatusCode, 400);
  // The JS SDK does not check required members: the server names the missing one by its wire name.
  const missing = await rejection(ec2.send(new CreateSecurityGroupCommand({ GroupName: unique("js-nodesc"),
    VpcId: vpc })));
  assert.equal(missing.name, "MissingParameter");
  assert.equal(missing.message, "The request must contain the parameter GroupDescription");
});

test("a user without permissions is UnauthorizedOperation (403)", async () => {
  const iam = new IAMClient(config());
  const name = unique("js-nobody");
  const user = await iam.send(new CreateUserCommand({ UserName: name }));
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  const client = new EC2Client(config(credentialsOf(key.AccessKey)));
  const error = await rejection(client.send(new DescribeVpcsCommand({})));
  assert.equal(error.name, "UnauthorizedOperation");
  assert.equal(error.$metadata.httpStatusCode, 403);
  assert.ok(error.message.startsWith("You are not authorized to perform this operation. User: "
    + `${user.User.Arn} is not authorized to perform: ec2:DescribeVpcs`), error.message);
});
