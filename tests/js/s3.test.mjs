// S3 through the JS SDK (rest-xml), buckets and access: path-style and virtual-hosted addressing, buckets in two
// regions and the SDK's region redirect, waiters, bucket policy (Block Public Access) and tags, errors as the SDK's
// exception classes, denials and bucket-policy grants, a wrong secret, presigned URLs used through fetch, session
// credentials. Objects, checksums and listings: s3_objects.test.mjs.
import assert from "node:assert/strict";
import { test } from "node:test";

import { CreateRoleCommand, PutRolePolicyCommand, PutUserPolicyCommand } from "@aws-sdk/client-iam";
import {
  BucketAlreadyOwnedByYou,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  S3ServiceException,
  waitUntilBucketExists,
  waitUntilObjectExists,
  waitUntilObjectNotExists,
} from "@aws-sdk/client-s3";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

import {
  OTHER_REGION,
  PORT,
  bucket,
  crc32Of,
  etagOf,
  iam,
  nobody,
  pathStyle,
  record,
  s3,
  virtualHosted,
} from "./s3_support.mjs";
import { ACCOUNT, ROOT, config, credentialsOf, rejection, unique, waiter } from "./support.mjs";

test("path-style and virtual-hosted-style requests reach the same bucket", async () => {
  const plain = pathStyle();
  const sentPath = record(plain);
  const name = await bucket(plain);
  const hosted = virtualHosted();
  const sentHosted = record(hosted);
  await hosted.send(new PutObjectCommand({ Bucket: name, Key: "dir/hosted.txt", Body: "virtual" }));
  const got = await s3.send(new GetObjectCommand({ Bucket: name, Key: "dir/hosted.txt" }));
  assert.equal(await got.Body.transformToString(), "virtual");
  const back = await hosted.send(new GetObjectCommand({ Bucket: name, Key: "dir/hosted.txt" }));
  assert.equal(await back.Body.transformToString(), "virtual");
  await hosted.send(new HeadBucketCommand({ Bucket: name }));

  assert.deepEqual(sentHosted.map((r) => [r.method, r.hostname, r.path]), [
    ["PUT", `${name}.localhost`, "/dir/hosted.txt"],
    ["GET", `${name}.localhost`, "/dir/hosted.txt"],
    ["HEAD", `${name}.localhost`, "/"],
  ]);
  assert.equal(sentHosted[0].headers.host, `${name}.localhost:${PORT}`);
  assert.deepEqual(sentPath.map((r) => [r.method, r.hostname, r.path]), [["PUT", "127.0.0.1", `/${name}/`]]);
  const listed = await hosted.send(new ListObjectsV2Command({ Bucket: name }));
  assert.deepEqual(listed.Contents.map((o) => o.Key), ["dir/hosted.txt"]);
  assert.equal(listed.Name, name);
});

test("CreateBucket in us-east-1 and in another region (LocationConstraint); HeadBucket names the region", async () => {
  const here = unique("js-east");
  const east = await s3.send(new CreateBucketCommand({ Bucket: here }));
  assert.equal(east.Location, `/${here}`);
  // Re-creating one's own bucket in us-east-1 succeeds.
  await s3.send(new CreateBucketCommand({ Bucket: here }));
  const head = await s3.send(new HeadBucketCommand({ Bucket: here }));
  assert.equal(head.BucketRegion, "us-east-1");
  const location = await s3.send(new GetBucketLocationCommand({ Bucket: here }));
  assert.equal(location.LocationConstraint, undefined);

  const europe = pathStyle(ROOT, OTHER_REGION);
  const sent = record(europe);
  const there = unique("js-west");
  // The SDK writes the client's region as the LocationConstraint when the caller gives none.
  await europe.send(new CreateBucketCommand({ Bucket: there }));
  assert.match(String(sent[0].body), new RegExp(`<LocationConstraint>${OTHER_REGION}</LocationConstraint>`));
  assert.equal((await europe.send(new HeadBucketCommand({ Bucket: there }))).BucketRegion, OTHER_REGION);
  const where = await europe.send(new GetBucketLocationCommand({ Bucket: there }));
  assert.equal(where.LocationConstraint, OTHER_REGION);

  const again = await rejection(europe.send(new CreateBucketCommand({ Bucket: there,
    CreateBucketConfiguration: { LocationConstraint: OTHER_REGION } })));
  assert.ok(again instanceof BucketAlreadyOwnedByYou, again.name);
  assert.equal(again.$metadata.httpStatusCode, 409);
  assert.equal(again.BucketName, there);

  // A us-east-1 client is told the bucket's region; the SDK's region redirect follows it for HeadBucket.
  const wrong = await rejection(s3.send(new HeadBucketCommand({ Bucket: there })));
  assert.equal(wrong.$metadata.httpStatusCode, 400);
  assert.equal(wrong.$response.headers["x-amz-bucket-region"], OTHER_REGION);
  const follows = pathStyle(ROOT, "us-east-1", { followRegionRedirects: true });
  assert.equal((await follows.send(new HeadBucketCommand({ Bucket: there }))).BucketRegion, OTHER_REGION);
  const misdirected = await rejection(s3.send(new ListObjectsV2Command({ Bucket: there })));
  assert.equal(misdirected.name, "AuthorizationHeaderMalformed");
  assert.equal(misdirected.Region, OTHER_REGION);
  assert.equal(misdirected.message,
    `The authorization header is malformed; the region 'us-east-1' is wrong; expecting '${OTHER_REGION}'`);

  const all = await s3.send(new ListBucketsCommand({}));
  const mine = all.Buckets.filter((b) => b.Name === here || b.Name === there);
  assert.deepEqual(mine.map((b) => [b.Name, b.BucketRegion]).sort(),
    [[here, "us-east-1"], [there, OTHER_REGION]].sort());
  assert.ok(mine.every((b) => b.CreationDate instanceof Date));
});

test("waiters: bucket exists, object exists, object no longer exists", async () => {
  const name = unique("js-waited");
  const pending = waitUntilBucketExists(waiter(s3, 20), { Bucket: name });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  assert.equal((await pending).state, "SUCCESS");

  const appearing = waitUntilObjectExists(waiter(s3, 20), { Bucket: name, Key: "later" });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await s3.send(new PutObjectCommand({ Bucket: name, Key: "later", Body: "here" }));
  assert.equal((await appearing).state, "SUCCESS");

  const leaving = waitUntilObjectNotExists(waiter(s3, 20), { Bucket: name, Key: "later" });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await s3.send(new DeleteObjectCommand({ Bucket: name, Key: "later" }));
  assert.equal((await leaving).state, "SUCCESS");

  const never = await rejection(waitUntilObjectExists(waiter(s3, 1), { Bucket: name, Key: "never" }));
  assert.equal(never.name, "TimeoutError");
});

test("bucket policy (a public one refused: BlockPublicPolicy is on) and tags", async () => {
  const name = await bucket();
  const none = await rejection(s3.send(new GetBucketPolicyCommand({ Bucket: name })));
  assert.equal(none.name, "NoSuchBucketPolicy");
  assert.equal(none.$metadata.httpStatusCode, 404);
  const publicRead = { Sid: "PublicRead", Effect: "Allow", Principal: "*", Action: "s3:GetObject",
    Resource: `arn:aws:s3:::${name}/public/*` };
  const blocked = await rejection(s3.send(new PutBucketPolicyCommand({ Bucket: name,
    Policy: JSON.stringify({ Version: "2012-10-17", Statement: [publicRead] }) })));
  assert.equal(blocked.name, "AccessDenied");
  assert.equal(blocked.$metadata.httpStatusCode, 403);
  assert.match(blocked.message, /because public policies are blocked by the BlockPublicPolicy block public access/);
  const block = await s3.send(new GetPublicAccessBlockCommand({ Bucket: name }));
  assert.equal(block.PublicAccessBlockConfiguration.BlockPublicPolicy, true);

  const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ ...publicRead, Sid: "AccountRead",
    Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } } }] });
  await s3.send(new PutBucketPolicyCommand({ Bucket: name, Policy: policy }));
  assert.equal((await s3.send(new GetBucketPolicyCommand({ Bucket: name }))).Policy, policy);
  const status = await s3.send(new GetBucketPolicyStatusCommand({ Bucket: name }));
  assert.equal(status.PolicyStatus.IsPublic, false);
  const malformed = await rejection(s3.send(new PutBucketPolicyCommand({ Bucket: name, Policy: "{not json" })));
  assert.equal(malformed.name, "MalformedPolicy");
  assert.equal(malformed.$metadata.httpStatusCode, 400);
  await s3.send(new DeleteBucketPolicyCommand({ Bucket: name }));
  assert.equal((await rejection(s3.send(new GetBucketPolicyCommand({ Bucket: name })))).name, "NoSuchBucketPolicy");

  const untagged = await rejection(s3.send(new GetBucketTaggingCommand({ Bucket: name })));
  assert.equal(untagged.name, "NoSuchTagSet");
  await s3.send(new PutBucketTaggingCommand({ Bucket: name, Tagging: { TagSet: [{ Key: "team", Value: "js" },
    { Key: "stage", Value: "test" }] } }));
  const tags = await s3.send(new GetBucketTaggingCommand({ Bucket: name }));
  assert.deepEqual(tags.TagSet.map((t) => [t.Key, t.Value]).sort(), [["stage", "test"], ["team", "js"]]);
  const system = await rejection(s3.send(new PutBucketTaggingCommand({ Bucket: name,
    Tagging: { TagSet: [{ Key: "aws:owner", Value: "me" }] } })));
  assert.equal(system.name, "InvalidTag");
  await s3.send(new DeleteBucketTaggingCommand({ Bucket: name }));
  assert.equal((await rejection(s3.send(new GetBucketTaggingCommand({ Bucket: name })))).name, "NoSuchTagSet");
});

test("errors as the SDK's exceptions: NoSuchKey, NoSuchBucket, NotFound, BucketNotEmpty", async () => {
  const name = await bucket();
  const missingKey = await rejection(s3.send(new GetObjectCommand({ Bucket: name, Key: "nothing/here" })));
  assert.ok(missingKey instanceof NoSuchKey, missingKey.name);
  assert.ok(missingKey instanceof S3ServiceException);
  assert.equal(missingKey.message, "The specified key does not exist.");
  assert.equal(missingKey.Key, "nothing/here");
  assert.equal(missingKey.$metadata.httpStatusCode, 404);
  assert.match(missingKey.$metadata.requestId, /^[0-9a-f-]{36}$/);

  const gone = unique("js-gone");
  const missingBucket = await rejection(s3.send(new ListObjectsV2Command({ Bucket: gone })));
  assert.ok(missingBucket instanceof NoSuchBucket, missingBucket.name);
  assert.equal(missingBucket.message, "The specified bucket does not exist");
  assert.equal(missingBucket.BucketName, gone);
  const put = await rejection(s3.send(new PutObjectCommand({ Bucket: gone, Key: "k", Body: "x" })));
  assert.ok(put instanceof NoSuchBucket, put.name);

  // HEAD answers carry no body: the SDK names the error after the status.
  const headKey = await rejection(s3.send(new HeadObjectCommand({ Bucket: name, Key: "nothing/here" })));
  assert.ok(headKey instanceof NotFound, headKey.name);
  assert.equal(headKey.$metadata.httpStatusCode, 404);
  const headBucket = await rejection(s3.send(new HeadBucketCommand({ Bucket: gone })));
  assert.ok(headBucket instanceof NotFound, headBucket.name);

  await s3.send(new PutObjectCommand({ Bucket: name, Key: "keep", Body: "x" }));
  const full = await rejection(s3.send(new DeleteBucketCommand({ Bucket: name })));
  assert.equal(full.name, "BucketNotEmpty");
  assert.ok(full instanceof S3ServiceException);
  assert.equal(full.$metadata.httpStatusCode, 409);
  assert.equal(full.message, "The bucket you tried to delete is not empty");
  await s3.send(new DeleteObjectCommand({ Bucket: name, Key: "keep" }));
  await s3.send(new DeleteBucketCommand({ Bucket: name }));
  assert.ok((await rejection(s3.send(new HeadBucketCommand({ Bucket: name })))) instanceof NotFound);
});

test("a user without permissions is AccessDenied, until the bucket policy grants it; a wrong secret", async () => {
  const name = await bucket();
  await s3.send(new PutObjectCommand({ Bucket: name, Key: "shared/report.txt", Body: "numbers" }));
  const user = await nobody();
  const client = pathStyle(user.credentials);
  const denied = await rejection(client.send(new GetObjectCommand({ Bucket: name, Key: "shared/report.txt" })));
  assert.equal(denied.name, "AccessDenied");
  assert.equal(denied.$metadata.httpStatusCode, 403);
  assert.equal(denied.message, `User: ${user.arn} is not authorized to perform: s3:GetObject on resource: `
    + `arn:aws:s3:::${name}/shared/report.txt because no identity-based policy allows the s3:GetObject action`);
  const listing = await rejection(client.send(new ListObjectsV2Command({ Bucket: name })));
  assert.equal(listing.name, "AccessDenied");
  // A HEAD answer has no body to name the error: the SDK has only the status (and names it "Unknown").
  const head = await rejection(client.send(new HeadObjectCommand({ Bucket: name, Key: "shared/report.txt" })));
  assert.equal(head.$metadata.httpStatusCode, 403);
  assert.ok(head instanceof S3ServiceException);

  await s3.send(new PutBucketPolicyCommand({ Bucket: name, Policy: JSON.stringify({ Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: user.arn }, Action: "s3:GetObject",
      Resource: `arn:aws:s3:::${name}/shared/*` }] }) }));
  const allowed = await client.send(new GetObjectCommand({ Bucket: name, Key: "shared/report.txt" }));
  assert.equal(await allowed.Body.transformToString(), "numbers");
  const stillDenied = await rejection(client.send(new PutObjectCommand({ Bucket: name, Key: "shared/x", Body: "y" })));
  assert.equal(stillDenied.name, "AccessDenied");

  const forged = pathStyle({ accessKeyId: user.credentials.accessKeyId, secretAccessKey: "not-the-secret" });
  const mismatch = await rejection(forged.send(new GetObjectCommand({ Bucket: name, Key: "shared/report.txt" })));
  assert.equal(mismatch.name, "SignatureDoesNotMatch");
  assert.equal(mismatch.$metadata.httpStatusCode, 403);
  assert.match(mismatch.message, /^The request signature we calculated does not match the signature you provided/);
  const rootForged = pathStyle({ accessKeyId: "test", secretAccessKey: "wrong" });
  const put = await rejection(rootForged.send(new PutObjectCommand({ Bucket: name, Key: "x", Body: "y" })));
  assert.equal(put.name, "SignatureDoesNotMatch");
});

test("presigned URLs: GET and PUT through fetch, refused once tampered with or for a user without access", async () => {
  const name = await bucket();
  await s3.send(new PutObjectCommand({ Bucket: name, Key: "docs/presigned.txt", Body: "signed content",
    ContentType: "text/plain" }));
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: name, Key: "docs/presigned.txt" }),
    { expiresIn: 300 });
  const parsed = new URL(url);
  assert.equal(parsed.pathname, `/${name}/docs/presigned.txt`);
  assert.equal(parsed.searchParams.get("X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
  assert.equal(parsed.searchParams.get("X-Amz-Expires"), "300");
  assert.match(parsed.searchParams.get("X-Amz-Credential"), /^test\/\d{8}\/us-east-1\/s3\/aws4_request$/);
  const fetched = await fetch(url);
  assert.equal(fetched.status, 200);
  assert.equal(await fetched.text(), "signed content");
  assert.equal(fetched.headers.get("etag"), etagOf("signed content"));
  assert.equal(fetched.headers.get("content-type"), "text/plain");

  // A download link naming its own Content-Disposition and Content-Type (response-* overrides, signed too).
  const download = await getSignedUrl(s3, new GetObjectCommand({ Bucket: name, Key: "docs/presigned.txt",
    ResponseContentDisposition: 'attachment; filename="notes.txt"', ResponseContentType: "application/octet-stream" }),
  { expiresIn: 300 });
  const saved = await fetch(download);
  assert.equal(saved.status, 200);
  assert.equal(saved.headers.get("content-disposition"), 'attachment; filename="notes.txt"');
  assert.equal(saved.headers.get("content-type"), "application/octet-stream");
  assert.equal(await saved.text(), "signed content");

  // The signature covers the key: another key with the same query is refused.
  const other = new URL(url);
  other.pathname = `/${name}/docs/other.txt`;
  const tampered = await fetch(other);
  assert.equal(tampered.status, 403);
  assert.match(await tampered.text(), /<Code>SignatureDoesNotMatch<\/Code>/);

  const upload = await getSignedUrl(s3, new PutObjectCommand({ Bucket: name, Key: "docs/uploaded.bin" }),
    { expiresIn: 300 });
  // The SDK writes the CRC32 of the empty body it presigned into the URL's query. S3 does not check query-string
  // checksums of a presigned upload (S3 user guide, "Uploading objects with presigned URLs": presigned URLs do not
  // support the CRC32, CRC32C, SHA-1 and SHA-256 checksums), so the upload of a real body succeeds.
  const query = new URL(upload).searchParams;
  assert.equal(query.get("x-amz-checksum-crc32"), crc32Of(Buffer.alloc(0)));
  assert.equal(query.get("x-amz-sdk-checksum-algorithm"), "CRC32");
  const body = Buffer.from("uploaded through a presigned URL");
  const stored = await fetch(upload, { method: "PUT", body });
  assert.equal(stored.status, 200, await stored.clone().text());
  assert.equal(stored.headers.get("etag"), etagOf(body));
  const back = await s3.send(new GetObjectCommand({ Bucket: name, Key: "docs/uploaded.bin" }));
  assert.deepEqual(Buffer.from(await back.Body.transformToByteArray()), body);

  // A URL presigned by a user without permissions is signed well and denied.
  const user = await nobody();
  const theirs = await getSignedUrl(pathStyle(user.credentials),
    new GetObjectCommand({ Bucket: name, Key: "docs/presigned.txt" }), { expiresIn: 60 });
  const denied = await fetch(theirs);
  assert.equal(denied.status, 403);
  assert.match(await denied.text(), /<Code>AccessDenied<\/Code>/);
});

test("an expired presigned URL is AccessDenied 'Request has expired'", async () => {
  const name = await bucket();
  await s3.send(new PutObjectCommand({ Bucket: name, Key: "old", Body: "stale" }));
  // Signed an hour ago for a minute (the presigner's signingDate), so expired whatever the clock does now.
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: name, Key: "old" }),
    { expiresIn: 60, signingDate: new Date(Date.now() - 3_600_000) });
  const answer = await fetch(url);
  assert.equal(answer.status, 403);
  const text = await answer.text();
  assert.match(text, /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
  assert.match(text, /<X-Amz-Expires>60<\/X-Amz-Expires>/);
});

test("a role's session credentials (x-amz-security-token), in headers and in a presigned URL", async () => {
  const name = await bucket();
  await s3.send(new PutObjectCommand({ Bucket: name, Key: "reports/q1.txt", Body: "quarter one" }));
  const user = await nobody();
  const userName = user.arn.split("/").pop();
  const roleName = unique("js-s3-reader");
  const role = await iam.send(new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: user.arn }, Action: "sts:AssumeRole" }] }) }));
  await iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: "read", PolicyDocument: JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${name}/reports/*` }] }) }));
  await iam.send(new PutUserPolicyCommand({ UserName: userName, PolicyName: "assume", PolicyDocument: JSON.stringify({
    Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: role.Role.Arn }] }) }));
  const sts = new STSClient(config(user.credentials));
  const session = await sts.send(new AssumeRoleCommand({ RoleArn: role.Role.Arn, RoleSessionName: "js-s3" }));
  const credentials = credentialsOf(session.Credentials);
  const reader = pathStyle(credentials);
  const sent = record(reader);
  const got = await reader.send(new GetObjectCommand({ Bucket: name, Key: "reports/q1.txt" }));
  assert.equal(await got.Body.transformToString(), "quarter one");
  assert.equal(sent[0].headers["x-amz-security-token"], credentials.sessionToken);
  const denied = await rejection(reader.send(new PutObjectCommand({ Bucket: name, Key: "reports/q2.txt",
    Body: "no" })));
  assert.equal(denied.name, "AccessDenied");
  assert.ok(denied.message.startsWith(`User: ${session.AssumedRoleUser.Arn} is not authorized to perform: `
    + "s3:PutObject"), denied.message);

  const url = await getSignedUrl(reader, new GetObjectCommand({ Bucket: name, Key: "reports/q1.txt" }),
    { expiresIn: 60 });
  assert.equal(new URL(url).searchParams.get("X-Amz-Security-Token"), credentials.sessionToken);
  const fetched = await fetch(url);
  assert.equal(fetched.status, 200);
  assert.equal(await fetched.text(), "quarter one");
  // The token is part of what was signed: the URL without it is refused.
  const bare = new URL(url);
  bare.searchParams.delete("X-Amz-Security-Token");
  const refused = await fetch(bare);
  assert.equal(refused.status, 403);
  assert.match(await refused.text(), /<Error><Code>\w+<\/Code>/);
});

test("the account's buckets are its own: ListBuckets of another account does not show them", async () => {
  const name = await bucket();
  const other = pathStyle({ accessKeyId: "111122223333", secretAccessKey: "test" });
  const theirs = await other.send(new ListBucketsCommand({}));
  assert.ok(!(theirs.Buckets ?? []).some((b) => b.Name === name));
  const mine = await s3.send(new ListBucketsCommand({}));
  assert.ok(mine.Buckets.some((b) => b.Name === name));
  assert.ok(mine.Owner.ID.length === 64, JSON.stringify(mine.Owner));
  const taken = await rejection(other.send(new CreateBucketCommand({ Bucket: name })));
  assert.equal(taken.name, "BucketAlreadyExists");
  assert.equal(taken.$metadata.httpStatusCode, 409);
  assert.equal(ACCOUNT, "000000000000");
});
