// Clients configured by the environment alone, as an application would be pointed at Turnout: AWS_ENDPOINT_URL
// (the SDK's "configured endpoints"), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN and AWS_REGION.
// This file runs in its own process (node --test), so setting process.env here touches no other test.
import assert from "node:assert/strict";
import { test } from "node:test";
import { join } from "node:path";
import { tmpdir } from "node:os";

import { EC2Client, DescribeVpcsCommand } from "@aws-sdk/client-ec2";
import { ECSClient, ListClustersCommand } from "@aws-sdk/client-ecs";
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

import { ACCOUNT, ENDPOINT, ROOT, config, unique } from "./support.mjs";

const nowhere = join(tmpdir(), unique("no-aws-config"));

function useEnvironment(credentials) {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: ENDPOINT,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_CONFIG_FILE: nowhere,
    AWS_SHARED_CREDENTIALS_FILE: nowhere,
  });
  delete process.env.AWS_PROFILE;
  if (credentials.sessionToken) process.env.AWS_SESSION_TOKEN = credentials.sessionToken;
  else delete process.env.AWS_SESSION_TOKEN;
}

test("AWS_ENDPOINT_URL and the credential variables reach Turnout for query, ec2 and JSON services", async () => {
  useEnvironment(ROOT);
  const me = await new STSClient({}).send(new GetCallerIdentityCommand({}));
  assert.equal(me.Arn, `arn:aws:iam::${ACCOUNT}:root`);
  const vpcs = await new EC2Client({}).send(new DescribeVpcsCommand({}));
  assert.ok(vpcs.Vpcs.some((v) => v.IsDefault));
  const clusters = await new ECSClient({}).send(new ListClustersCommand({}));
  assert.ok(Array.isArray(clusters.clusterArns));
});

test("a role session's credentials from the environment (AWS_SESSION_TOKEN)", async () => {
  // A role the account trusts, assumed by a user of the account allowed to (root may not assume roles).
  const iam = new IAMClient(config());
  const roleName = unique("js-env-role");
  const role = await iam.send(new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "sts:AssumeRole" }],
  }) }));
  const userName = unique("js-env-user");
  await iam.send(new CreateUserCommand({ UserName: userName }));
  await iam.send(new PutUserPolicyCommand({ UserName: userName, PolicyName: "assume", PolicyDocument: JSON.stringify({
    Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: role.Role.Arn }] }) }));
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey;
  useEnvironment({ accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey });
  const assumed = await new STSClient({}).send(new AssumeRoleCommand({ RoleArn: role.Role.Arn,
    RoleSessionName: "from-env" }));
  useEnvironment({ accessKeyId: assumed.Credentials.AccessKeyId, secretAccessKey: assumed.Credentials.SecretAccessKey,
    sessionToken: assumed.Credentials.SessionToken });
  const session = await new STSClient({}).send(new GetCallerIdentityCommand({}));
  assert.equal(session.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/from-env`);
});
