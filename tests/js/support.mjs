// Shared by the JS SDK tests: the endpoint under test, client configuration, unique names, polling, and the
// seed's documents. tests/e2e/test_js_sdk.py starts `turnout serve` and sets TURNOUT_ENDPOINT.
import assert from "node:assert/strict";

export const ENDPOINT = process.env.TURNOUT_ENDPOINT;
if (!ENDPOINT) {
  throw new Error("TURNOUT_ENDPOINT is not set: run these tests through tests/e2e/test_js_sdk.py (or set it)");
}
export const ACCOUNT = "000000000000";
export const REGION = "us-east-1";
export const ROOT = { accessKeyId: "test", secretAccessKey: "test" };

/** Client configuration for `credentials` (the root user by default); no retries, so a failure shows at once. */
export function config(credentials = ROOT) {
  return { endpoint: ENDPOINT, region: REGION, credentials, maxAttempts: 1 };
}

/** Credentials of an access key as IAM's CreateAccessKey or STS's AssumeRole answer them. */
export function credentialsOf(key) {
  return { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey, sessionToken: key.SessionToken };
}

const stamp = `${Date.now() % 10_000_000}-${process.pid % 1000}`;
let counter = 0;
/** A name no other test (or earlier run on the same server) uses. */
export function unique(prefix) {
  counter += 1;
  return `${prefix}-${stamp}-${counter}`;
}

/** Waiter settings for a server whose clock runs fast: poll every 0.1 to 0.25 s (the SDK takes fractions of a
 * second; its defaults are tens of seconds), give up after `seconds`. */
export function waiter(client, seconds = 60) {
  return { client, minDelay: 0.1, maxDelay: 0.25, maxWaitTime: seconds };
}

/** Call `probe` until it returns a truthy value (returned), or fail after `seconds` with the last value seen. */
export async function poll(probe, what, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last && last.done) return last.value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`${what}: not reached in ${seconds}s; last seen ${JSON.stringify(last?.value ?? last).slice(0, 2000)}`);
}

/** The error `promise` rejects with (fails if it resolves). */
export async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected the call to fail, it succeeded");
}

/** Every item of a v3 paginator, and how many pages it took. */
export async function collect(paginator, key) {
  const items = [];
  let pages = 0;
  for await (const page of paginator) {
    pages += 1;
    items.push(...(page[key] ?? []));
  }
  return { items, pages };
}

// The seed's documents, exactly as AWS's page "Amazon ECS infrastructure IAM role for load balancers" gives them.
export const INFRA_ROLE = "ecsInfrastructureRoleForLoadBalancers";
export const LB_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers";
export const TRUST_POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "AllowAccessToECSForInfrastructureManagement",
      Effect: "Allow",
      Principal: { Service: "ecs.amazonaws.com" },
      Action: "sts:AssumeRole",
    },
  ],
};
export const PASS_ROLE_STATEMENT = {
  Action: "iam:PassRole",
  Effect: "Allow",
  Resource: ["arn:aws:iam::*:role/ecsInfrastructureRoleForLoadBalancers"],
  Condition: { StringEquals: { "iam:PassedToService": "ecs.amazonaws.com" } },
};

/** The bucket policy CloudTrail's user guide gives ("Amazon S3 bucket policy for CloudTrail") for the trails of
 * `account`: CloudTrail checks the bucket's ACL and writes objects the bucket owner owns. CreateTrail refuses a
 * bucket whose policy does not allow this. */
export function cloudTrailBucketPolicy(bucket, account = ACCOUNT) {
  const principal = { Service: "cloudtrail.amazonaws.com" };
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "AWSCloudTrailAclCheck", Effect: "Allow", Principal: principal, Action: "s3:GetBucketAcl",
        Resource: `arn:aws:s3:::${bucket}`, Condition: { StringEquals: { "aws:SourceAccount": account } } },
      { Sid: "AWSCloudTrailWrite", Effect: "Allow", Principal: principal, Action: "s3:PutObject",
        Resource: `arn:aws:s3:::${bucket}/*`, Condition: { StringEquals: {
          "aws:SourceAccount": account, "s3:x-amz-acl": "bucket-owner-full-control" } } },
    ],
  });
}
