// Wire details the JS SDK reads on its own (not through botocore): response headers per protocol, the Date header
// its clock-skew correction samples, the request id, and how it classifies Turnout's NotImplemented.
import assert from "node:assert/strict";
import { test } from "node:test";

import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { DescribeInstancesCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { DescribeClustersCommand, ECSClient, ListClustersCommand, ListContainerInstancesCommand } from "@aws-sdk/client-ecs";
import { DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { GetRoleCommand, IAMClient, ListRolesCommand } from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

import { ENDPOINT, REGION, ROOT, config, rejection } from "./support.mjs";

/** The client, and the raw HTTP response of its latest call (captured after deserialization, error or not). */
function recording(client) {
  const seen = {};
  client.middlewareStack.add((next) => async (args) => {
    try {
      const out = await next(args);
      seen.response = out.response;
      return out;
    } catch (error) {
      seen.response = error.$response;
      throw error;
    }
  }, { step: "deserialize", name: "turnoutRecordResponse" });
  return { client, seen };
}

const QUERY = [
  ["IAM", new IAMClient(config()), () => new ListRolesCommand({ MaxItems: 1 })],
  ["STS", new STSClient(config()), () => new GetCallerIdentityCommand({})],
  ["ELBv2", new ElasticLoadBalancingV2Client(config()), () => new DescribeLoadBalancersCommand({})],
  ["EC2", new EC2Client(config()), () => new DescribeVpcsCommand({})],
];
const JSON_SERVICES = [
  ["ECS", new ECSClient(config()), () => new ListClustersCommand({})],
  ["CloudTrail", new CloudTrailClient(config()), () => new LookupEventsCommand({ MaxResults: 1 })],
];

test("responses carry the protocol's content type, x-amzn-requestid and a Date header", async () => {
  for (const [name, raw, command] of [...QUERY, ...JSON_SERVICES]) {
    const { client, seen } = recording(raw);
    const answer = await client.send(command());
    const headers = seen.response.headers;
    const json = JSON_SERVICES.some(([other]) => other === name);
    assert.equal(headers["content-type"], json ? "application/x-amz-json-1.1" : "text/xml", name);
    assert.equal(headers["x-amzn-requestid"], answer.$metadata.requestId, name);
    assert.ok(!Number.isNaN(Date.parse(headers.date)), `${name}: Date ${headers.date}`);
    assert.ok(Math.abs(Date.parse(headers.date) - Date.now()) < 5 * 60_000, `${name}: Date ${headers.date}`);
  }
});

test("JSON errors name their type in x-amzn-errortype and the body; query errors in the XML envelope", async () => {
  const ecs = recording(new ECSClient(config()));
  const error = await rejection(ecs.client.send(new DescribeClustersCommand({ clusters: ["a", "b"], include: ["NOPE"] })));
  assert.equal(error.name, "ValidationException");
  assert.equal(ecs.seen.response.headers["x-amzn-errortype"], "ValidationException");
  assert.equal(error.$metadata.requestId, ecs.seen.response.headers["x-amzn-requestid"]);

  const iam = recording(new IAMClient(config()));
  const missing = await rejection(iam.client.send(new GetRoleCommand({ RoleName: "js-protocol-none" })));
  assert.equal(missing.name, "NoSuchEntityException");
  assert.deepEqual([missing.Type, missing.Code], ["Sender", "NoSuchEntity"]);
  assert.equal(missing.$metadata.requestId, iam.seen.response.headers["x-amzn-requestid"]);
});

test("an operation Turnout lacks is NotImplemented (501), a server fault the SDK does not retry", async () => {
  for (const [client, command] of [
    [new EC2Client({ endpoint: ENDPOINT, region: REGION, credentials: ROOT }), new DescribeInstancesCommand({})],
    [new ECSClient({ endpoint: ENDPOINT, region: REGION, credentials: ROOT }), new ListContainerInstancesCommand({})],
  ]) {
    const error = await rejection(client.send(command));
    assert.equal(error.name, "NotImplemented");
    assert.equal(error.$fault, "server");
    assert.equal(error.$metadata.httpStatusCode, 501);
    assert.equal(error.$metadata.attempts, 1, "retried");
    assert.match(error.message, /^The operation (DescribeInstances of service ec2|ListContainerInstances of service ecs) is not implemented by Turnout\.$/);
  }
});

test("a client whose clock is 20 minutes slow is refused, then corrects its clock from the Date header", async () => {
  const slow = -20 * 60_000;
  const refusals = [
    [STSClient, () => new GetCallerIdentityCommand({}), "SignatureDoesNotMatch", 403],
    [EC2Client, () => new DescribeVpcsCommand({}), "RequestExpired", 400],
    [ECSClient, () => new ListClustersCommand({}), "InvalidSignatureException", 400],
  ];
  for (const [Client, command, code, status] of refusals) {
    const client = new Client({ ...config(), systemClockOffset: slow });
    const error = await rejection(client.send(command()));
    assert.equal(error.name, code);
    assert.equal(error.$metadata.httpStatusCode, status);
    assert.match(error.message, /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - \d+ min\.\)$/);
    // The SDK read the server's time from the error's Date header: its next call is signed right.
    assert.ok(Math.abs(client.config.systemClockOffset) < 5_000, `offset ${client.config.systemClockOffset}`);
    const again = await client.send(command());
    assert.equal(again.$metadata.httpStatusCode, 200);
  }
  // With the SDK's default retries, a JSON service's "Signature expired" is retried at once, corrected.
  const ecs = new ECSClient({ endpoint: ENDPOINT, region: REGION, credentials: ROOT, systemClockOffset: slow });
  const listed = await ecs.send(new ListClustersCommand({}));
  assert.equal(listed.$metadata.attempts, 2);
});
