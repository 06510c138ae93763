// CloudTrail through the JS SDK (JSON 1.1): LookupEvents (paging, time range, the request id a client saw),
// trails, and errors as the SDK's exception classes.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  AddTagsCommand,
  CloudTrailClient,
  CloudTrailServiceException,
  CreateTrailCommand,
  DeleteTrailCommand,
  GetTrailCommand,
  GetTrailStatusCommand,
  InsufficientS3BucketPolicyException,
  ListTagsCommand,
  LookupEventsCommand,
  S3BucketDoesNotExistException,
  StartLoggingCommand,
  TrailAlreadyExistsException,
  TrailNotFoundException,
  paginateListTrails,
  paginateLookupEvents,
} from "@aws-sdk/client-cloudtrail";
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateBucketCommand, PutBucketPolicyCommand, S3Client } from "@aws-sdk/client-s3";

import { ACCOUNT, cloudTrailBucketPolicy, collect, config, credentialsOf, rejection, unique } from "./support.mjs";

const cloudtrail = new CloudTrailClient(config());
const iam = new IAMClient(config());
const s3 = new S3Client({ ...config(), forcePathStyle: true });
const BUCKET = "js-audit-logs";

/** The trail's bucket (re-creating one's own bucket in us-east-1 succeeds), with CloudTrail's bucket policy. */
async function trailBucket() {
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: cloudTrailBucketPolicy(BUCKET) }));
}

test("CreateTrail refuses a bucket that is missing, then one whose policy does not let CloudTrail write", async () => {
  const name = unique("js-trail");
  const bucket = unique("js-trail-bucket");
  const missing = await rejection(cloudtrail.send(new CreateTrailCommand({ Name: name, S3BucketName: bucket })));
  assert.ok(missing instanceof S3BucketDoesNotExistException, missing.name);
  assert.equal(missing.message, `S3 bucket does not exist: ${bucket}`);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const unwritable = await rejection(cloudtrail.send(new CreateTrailCommand({ Name: name, S3BucketName: bucket })));
  assert.ok(unwritable instanceof InsufficientS3BucketPolicyException, unwritable.name);
  assert.equal(unwritable.message, `Incorrect S3 bucket policy is detected for bucket: ${bucket}`);
  // Another account's trails are not let in by this account's policy.
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: cloudTrailBucketPolicy(bucket, "111122223333") }));
  const other = await rejection(cloudtrail.send(new CreateTrailCommand({ Name: name, S3BucketName: bucket })));
  assert.ok(other instanceof InsufficientS3BucketPolicyException, other.name);
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: cloudTrailBucketPolicy(bucket) }));
  const created = await cloudtrail.send(new CreateTrailCommand({ Name: name, S3BucketName: bucket }));
  assert.equal(created.S3BucketName, bucket);
  await cloudtrail.send(new DeleteTrailCommand({ Name: name }));
});

test("LookupEvents finds a call by the request id the SDK reported, within a time range", async () => {
  const before = new Date(Date.now() - 2000);
  const name = unique("js-traced");
  const created = await iam.send(new CreateUserCommand({ UserName: name }));
  const requestId = created.$metadata.requestId;
  assert.match(requestId, /^[0-9a-f-]{36}$/);
  const { items } = await collect(paginateLookupEvents({ client: cloudtrail, pageSize: 5 }, {
    LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: name }],
    StartTime: before,
    EndTime: new Date(Date.now() + 2000),
  }), "Events");
  const event = items.find((e) => e.EventName === "CreateUser");
  assert.ok(event, JSON.stringify(items.map((e) => e.EventName)));
  assert.deepEqual([event.EventSource, event.Username, event.AccessKeyId, event.ReadOnly],
    ["iam.amazonaws.com", "root", "test", "false"]);
  assert.ok(event.EventTime instanceof Date && event.EventTime.getTime() >= before.getTime() - 1000);
  assert.ok(event.Resources.some((r) => r.ResourceType === "AWS::IAM::User" && r.ResourceName === name),
    JSON.stringify(event.Resources));
  const record = JSON.parse(event.CloudTrailEvent);
  assert.equal(record.requestID, requestId);
  assert.equal(record.eventID, event.EventId);
  assert.deepEqual(record.requestParameters, { userName: name });
  assert.equal(record.responseElements.user.arn, created.User.Arn);
  assert.equal(record.userIdentity.type, "Root");
  assert.equal(record.recipientAccountId, ACCOUNT);
  assert.match(record.userAgent, /aws-sdk-js/);

  // A window that ended before the call does not find it.
  const earlier = await cloudtrail.send(new LookupEventsCommand({
    LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: name }],
    StartTime: new Date(before.getTime() - 3_600_000), EndTime: new Date(before.getTime() - 1_800_000),
  }));
  assert.deepEqual(earlier.Events, []);
});

test("LookupEvents pages with NextToken, newest first, each event once", async () => {
  const name = unique("js-many");
  await iam.send(new CreateUserCommand({ UserName: name }));
  for (let i = 0; i < 4; i += 1) {
    await iam.send(new CreateAccessKeyCommand({ UserName: name })).catch((e) => e); // the third and fourth fail
  }
  const { items, pages } = await collect(paginateLookupEvents({ client: cloudtrail, pageSize: 2 }, {
    LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: name }],
  }), "Events");
  assert.equal(pages, 3, JSON.stringify(items.map((e) => e.EventName)));
  assert.equal(items.length, 5);
  assert.equal(new Set(items.map((e) => e.EventId)).size, 5);
  assert.deepEqual(items.map((e) => e.EventName).reverse(), ["CreateUser", "CreateAccessKey", "CreateAccessKey",
    "CreateAccessKey", "CreateAccessKey"]);
  const failed = items.map((e) => JSON.parse(e.CloudTrailEvent)).filter((r) => r.errorCode);
  assert.deepEqual(failed.map((r) => r.errorCode), ["LimitExceeded", "LimitExceeded"]);
});

test("trails: create, tag, start logging, status, list, delete", async () => {
  const name = unique("js-trail");
  await trailBucket();
  const created = await cloudtrail.send(new CreateTrailCommand({ Name: name, S3BucketName: BUCKET,
    IsMultiRegionTrail: true, TagsList: [{ Key: "team", Value: "js" }] }));
  const arn = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/${name}`;
  assert.deepEqual([created.TrailARN, created.IsMultiRegionTrail, created.IncludeGlobalServiceEvents],
    [arn, true, true]);
  const tags = await cloudtrail.send(new ListTagsCommand({ ResourceIdList: [arn] }));
  assert.deepEqual(tags.ResourceTagList, [{ ResourceId: arn, TagsList: [{ Key: "team", Value: "js" }] }]);
  await cloudtrail.send(new AddTagsCommand({ ResourceId: arn, TagsList: [{ Key: "stage", Value: "test" }] }));
  await cloudtrail.send(new StartLoggingCommand({ Name: name }));
  const status = await cloudtrail.send(new GetTrailStatusCommand({ Name: arn }));
  assert.equal(status.IsLogging, true);
  assert.ok(status.StartLoggingTime instanceof Date);
  const got = await cloudtrail.send(new GetTrailCommand({ Name: name }));
  assert.equal(got.Trail.S3BucketName, "js-audit-logs");
  const listed = await collect(paginateListTrails({ client: cloudtrail }, {}), "Trails");
  assert.ok(listed.items.some((t) => t.TrailARN === arn && t.Name === name && t.HomeRegion === "us-east-1"));

  const duplicate = await rejection(cloudtrail.send(new CreateTrailCommand({ Name: name,
    S3BucketName: BUCKET })));
  assert.ok(duplicate instanceof TrailAlreadyExistsException, duplicate.name);
  assert.equal(duplicate.$metadata.httpStatusCode, 400);

  await cloudtrail.send(new DeleteTrailCommand({ Name: name }));
  const gone = await rejection(cloudtrail.send(new GetTrailStatusCommand({ Name: name })));
  assert.ok(gone instanceof TrailNotFoundException, gone.name);
  assert.ok(gone instanceof CloudTrailServiceException);
  assert.equal(gone.message, `Unknown trail: ${arn} for the user: ${ACCOUNT}`);
  assert.equal(gone.$metadata.httpStatusCode, 400);
});

test("a bad lookup attribute is a ValidationException; a user without permissions AccessDeniedException", async () => {
  const invalid = await rejection(cloudtrail.send(new LookupEventsCommand({
    LookupAttributes: [{ AttributeKey: "Colour", AttributeValue: "blue" }] })));
  assert.equal(invalid.name, "ValidationException");
  assert.equal(invalid.$metadata.httpStatusCode, 400);
  assert.match(invalid.message, /^1 validation error detected: Value 'Colour' at 'lookupAttributes\.1\.member\.attributeKey'/);

  const name = unique("js-nobody");
  const user = await iam.send(new CreateUserCommand({ UserName: name }));
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  const client = new CloudTrailClient(config(credentialsOf(key.AccessKey)));
  const denied = await rejection(client.send(new LookupEventsCommand({})));
  assert.equal(denied.name, "AccessDeniedException");
  assert.equal(denied.$metadata.httpStatusCode, 400);
  assert.ok(denied.message.startsWith(`User: ${user.User.Arn} is not authorized to perform: cloudtrail:LookupEvents`),
    denied.message);
});
