// S3 through the JS SDK (rest-xml): path-style and virtual-hosted addressing, buckets in two regions, waiters,
// PutObject with the SDK's default flexible checksums (a CRC32 header, or an aws-chunked body with a CRC32
// trailer), GetObject/HeadObject, paginated listings, DeleteObjects, bucket policy and tags, errors as the SDK's
// exception classes, and presigned URLs used through fetch.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import dns from "node:dns";
import http from "node:http";
import { Readable } from "node:stream";
import { test } from "node:test";
import { crc32 } from "node:zlib";

import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import {
  BucketAlreadyOwnedByYou,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
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
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  paginateListObjectsV2,
  waitUntilBucketExists,
  waitUntilObjectExists,
  waitUntilObjectNotExists,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

import { ACCOUNT, ENDPOINT, ROOT, collect, config, credentialsOf, rejection, unique, waiter } from "./support.mjs";

const PORT = new URL(ENDPOINT).port;
const OTHER_REGION = "eu-west-1";

/** `bucket.localhost` is loopback (RFC 6761), but not every resolver says so (glibc does not): the SDK's
 * virtual-hosted requests are sent to 127.0.0.1 with their `Host: bucket.localhost:PORT` unchanged. */
function loopback(hostname, options, callback) {
  if (hostname === "localhost" || hostname.endsWith(".localhost")) {
    return options.all ? callback(null, [{ address: "127.0.0.1", family: 4 }]) : callback(null, "127.0.0.1", 4);
  }
  return dns.lookup(hostname, options, callback);
}

/** Every request `client` sends, as the HTTP handler receives it (signed, checksummed, body encoded). */
function record(client) {
  const sent = [];
  client.middlewareStack.add((next) => async (args) => {
    const { method, hostname, path, query, headers, body } = args.request;
    sent.push({ method, hostname, path, query: { ...query }, headers: { ...headers }, body });
    return next(args);
  }, { step: "deserialize", name: "recordRequests", priority: "low" });
  return sent;
}

/** A path-style client (`http://127.0.0.1:PORT/bucket/key`). */
function pathStyle(credentials = ROOT, region = "us-east-1", extra = {}) {
  return new S3Client({ ...config(credentials), region, forcePathStyle: true, ...extra });
}

/** A virtual-hosted-style client: endpoint `http://localhost:PORT`, which the SDK turns into `bucket.localhost`. */
function virtualHosted() {
  return new S3Client({
    ...config(), endpoint: `http://localhost:${PORT}`,
    requestHandler: { httpAgent: new http.Agent({ lookup: loopback }) },
  });
}

const s3 = pathStyle();
const iam = new IAMClient(config());

function crc32Of(data) {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(crc32(data));
  return value.toString("base64");
}

function etagOf(data) {
  return `"${createHash("md5").update(data).digest("hex")}"`;
}

async function bucket(client = s3) {
  const name = unique("js-bucket");
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/** A user with no policy at all, and its access key's credentials. */
async function nobody() {
  const name = unique("js-s3-nobody");
  const user = await iam.send(new CreateUserCommand({ UserName: name }));
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  return { arn: user.User.Arn, credentials: credentialsOf(key.AccessKey) };
}

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

test("PutObject with the SDK's default CRC32: a header for a known body, verified by Turnout", async () => {
  const name = await bucket();
  const client = pathStyle();
  const sent = record(client);
  const text = "hello, turnout";
  const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 10, 13]);
  const fromString = await client.send(new PutObjectCommand({ Bucket: name, Key: "string.txt", Body: text,
    ContentType: "text/plain" }));
  const fromBuffer = await client.send(new PutObjectCommand({ Bucket: name, Key: "buffer.bin", Body: bytes }));

  for (const [request, data, answer] of [[sent[0], Buffer.from(text), fromString], [sent[1], bytes, fromBuffer]]) {
    assert.equal(request.headers["x-amz-sdk-checksum-algorithm"], "CRC32");
    assert.equal(request.headers["x-amz-checksum-crc32"], crc32Of(data));
    assert.equal(request.headers["x-amz-content-sha256"], createHash("sha256").update(data).digest("hex"));
    assert.equal(request.headers["content-encoding"], undefined);
    assert.equal(answer.ETag, etagOf(data));
    assert.equal(answer.ChecksumCRC32, crc32Of(data));
  }
  const got = await s3.send(new GetObjectCommand({ Bucket: name, Key: "buffer.bin" }));
  assert.deepEqual(Buffer.from(await got.Body.transformToByteArray()), bytes);
  assert.equal(got.ContentType, "application/octet-stream");

  // A checksum that is not the body's is refused, and nothing is written.
  const bad = await rejection(s3.send(new PutObjectCommand({ Bucket: name, Key: "bad.txt", Body: text,
    ChecksumCRC32: crc32Of(Buffer.from("something else")) })));
  assert.equal(bad.name, "BadDigest");
  assert.equal(bad.$metadata.httpStatusCode, 400);
  assert.equal(bad.message, "The CRC32 you specified did not match the calculated checksum.");
  const absent = await rejection(s3.send(new HeadObjectCommand({ Bucket: name, Key: "bad.txt" })));
  assert.ok(absent instanceof NotFound, absent.name);
});

test("PutObject of a stream: an aws-chunked body whose CRC32 trailer Turnout checks", async () => {
  const name = await bucket();
  const client = pathStyle();
  const sent = record(client);
  const parts = [Buffer.from("first part, "), Buffer.from("second part, "), Buffer.from("the end")];
  const whole = Buffer.concat(parts);
  const put = await client.send(new PutObjectCommand({ Bucket: name, Key: "stream.txt", Body: Readable.from(parts),
    ContentLength: whole.length }));
  const request = sent[0];
  assert.equal(request.headers["content-encoding"], "aws-chunked");
  assert.equal(request.headers["x-amz-content-sha256"], "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
  assert.equal(request.headers["x-amz-trailer"], "x-amz-checksum-crc32");
  assert.equal(request.headers["x-amz-decoded-content-length"], String(whole.length));
  assert.equal(request.headers["x-amz-checksum-crc32"], undefined);
  assert.equal(put.ETag, etagOf(whole));
  assert.equal(put.ChecksumCRC32, crc32Of(whole));

  const head = await s3.send(new HeadObjectCommand({ Bucket: name, Key: "stream.txt" }));
  assert.equal(head.ContentLength, whole.length);
  assert.equal(head.ContentEncoding, undefined); // aws-chunked is the transfer's encoding, not the object's
  const got = await s3.send(new GetObjectCommand({ Bucket: name, Key: "stream.txt" }));
  assert.equal(await got.Body.transformToString(), whole.toString());

  // One byte of the data changed on the wire after the SDK computed its trailer: BadDigest, nothing written.
  const tampering = pathStyle();
  tampering.middlewareStack.add((next) => async (args) => {
    const chunks = [];
    for await (const chunk of args.request.body) chunks.push(Buffer.from(chunk));
    const encoded = Buffer.concat(chunks);
    const at = encoded.indexOf("second");
    assert.ok(at > 0, encoded.toString());
    encoded[at] = "S".charCodeAt(0);
    args.request.body = encoded;
    return next(args);
  }, { step: "deserialize", name: "tamper", priority: "low" });
  const bad = await rejection(tampering.send(new PutObjectCommand({ Bucket: name, Key: "tampered.txt",
    Body: Readable.from(parts), ContentLength: whole.length })));
  assert.equal(bad.name, "BadDigest");
  assert.equal(bad.message, "The CRC32 you specified did not match the calculated checksum.");
  const absent = await rejection(s3.send(new HeadObjectCommand({ Bucket: name, Key: "tampered.txt" })));
  assert.equal(absent.$metadata.httpStatusCode, 404);
});

test("every algorithm the SDK offers is verified, and an object sent without one gets S3's CRC64NVME", async () => {
  const name = await bucket();
  const client = pathStyle();
  const sent = record(client);
  const data = Buffer.from("checked four ways");
  const expected = {
    CRC32C: null, // no CRC32C in node: the value sent is compared with the answer instead
    SHA1: createHash("sha1").update(data).digest("base64"),
    SHA256: createHash("sha256").update(data).digest("base64"),
    CRC64NVME: null,
  };
  for (const [algorithm, value] of Object.entries(expected)) {
    const put = await client.send(new PutObjectCommand({ Bucket: name, Key: algorithm, Body: data,
      ChecksumAlgorithm: algorithm }));
    const header = `x-amz-checksum-${algorithm.toLowerCase()}`;
    const request = sent.at(-1);
    assert.equal(request.headers["x-amz-sdk-checksum-algorithm"], algorithm);
    if (value !== null) assert.equal(request.headers[header], value);
    assert.equal(put[`Checksum${algorithm}`], request.headers[header]);
    assert.equal(put.ChecksumType, "FULL_OBJECT");
    const got = await client.send(new GetObjectCommand({ Bucket: name, Key: algorithm, ChecksumMode: "ENABLED" }));
    assert.equal(got[`Checksum${algorithm}`], request.headers[header]);
    assert.equal(await got.Body.transformToString(), data.toString()); // the SDK checked the body against it
    // Another body's checksum, sent with this body, is refused.
    const other = await client.send(new PutObjectCommand({ Bucket: name, Key: `${algorithm}-other`, Body: "other",
      ChecksumAlgorithm: algorithm }));
    const wrong = await rejection(client.send(new PutObjectCommand({ Bucket: name, Key: `${algorithm}-bad`,
      Body: data, [`Checksum${algorithm}`]: other[`Checksum${algorithm}`] })));
    assert.equal(wrong.name, "BadDigest", algorithm);
    assert.equal(wrong.message, `The ${algorithm} you specified did not match the calculated checksum.`);
  }

  // Without a checksum (the SDK told to send none), S3 adds its default CRC64NVME; the SDK checks it on GET.
  const bare = pathStyle(ROOT, "us-east-1", { requestChecksumCalculation: "WHEN_REQUIRED" });
  const plain = await bare.send(new PutObjectCommand({ Bucket: name, Key: "plain", Body: data }));
  assert.equal(plain.ChecksumCRC64NVME, (await client.send(new HeadObjectCommand({ Bucket: name,
    Key: "CRC64NVME", ChecksumMode: "ENABLED" }))).ChecksumCRC64NVME);
  assert.equal(plain.ChecksumCRC32, undefined);
  const copied = await client.send(new CopyObjectCommand({ Bucket: name, Key: "copied",
    CopySource: `${name}/plain` }));
  assert.equal(copied.CopyObjectResult.ChecksumCRC64NVME, plain.ChecksumCRC64NVME);
});

test("a multipart upload through the SDK: part checksums answered, the object's CRC64NVME over the whole", async () => {
  const name = await bucket();
  const first = Buffer.alloc(5 * 1024 * 1024, "a");
  const last = Buffer.from("the last part");
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: name, Key: "big.bin",
    ContentType: "application/x-test" }));
  const parts = [];
  for (const [index, body] of [first, last].entries()) {
    const part = await s3.send(new UploadPartCommand({ Bucket: name, Key: "big.bin", UploadId,
      PartNumber: index + 1, Body: body }));
    assert.equal(part.ChecksumCRC32, crc32Of(body));
    assert.equal(part.ETag, etagOf(body));
    parts.push({ PartNumber: index + 1, ETag: part.ETag });
  }
  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: name, Key: "big.bin", UploadId,
    MultipartUpload: { Parts: parts } }));
  assert.match(done.ETag, /^"[0-9a-f]{32}-2"$/);
  assert.equal(done.ChecksumType, "FULL_OBJECT");
  const got = await s3.send(new GetObjectCommand({ Bucket: name, Key: "big.bin" }));
  assert.equal(got.ChecksumCRC64NVME, done.ChecksumCRC64NVME);
  assert.equal(got.ContentType, "application/x-test");
  const body = Buffer.from(await got.Body.transformToByteArray());
  assert.equal(body.length, first.length + last.length);
  assert.ok(body.subarray(first.length).equals(last));
});

test("keys with spaces, unicode and reserved characters, both addressing styles", async () => {
  const name = await bucket();
  const hosted = virtualHosted();
  const keys = ["dir/héllo wörld+x.txt", "a?b#c&d=e", "sp ace/%41", "~tilde!$'()*,;:@", "trailing/"];
  for (const [index, key] of keys.entries()) {
    const client = index % 2 === 0 ? s3 : hosted;
    await client.send(new PutObjectCommand({ Bucket: name, Key: key, Body: `body of ${key}` }));
    const other = index % 2 === 0 ? hosted : s3;
    const got = await other.send(new GetObjectCommand({ Bucket: name, Key: key }));
    assert.equal(await got.Body.transformToString(), `body of ${key}`, key);
  }
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: name }));
  assert.deepEqual(listed.Contents.map((o) => o.Key), [...keys].sort((a, b) => Buffer.compare(Buffer.from(a),
    Buffer.from(b))));
});

test("GetObject and HeadObject: body, ranges, metadata, ETag, the stored checksum", async () => {
  const name = await bucket();
  const data = Buffer.from("0123456789abcdefghij");
  await s3.send(new PutObjectCommand({ Bucket: name, Key: "data/file.txt", Body: data, ContentType: "text/plain",
    Metadata: { Colour: "blue", "team-name": "js" }, CacheControl: "max-age=60", ContentDisposition: "inline" }));

  const head = await s3.send(new HeadObjectCommand({ Bucket: name, Key: "data/file.txt" }));
  assert.equal(head.ContentLength, data.length);
  assert.equal(head.ETag, etagOf(data));
  assert.equal(head.ContentType, "text/plain");
  assert.equal(head.CacheControl, "max-age=60");
  assert.equal(head.ContentDisposition, "inline");
  assert.deepEqual(head.Metadata, { colour: "blue", "team-name": "js" });
  assert.equal(head.AcceptRanges, "bytes");
  assert.ok(head.LastModified instanceof Date);
  assert.ok(Math.abs(head.LastModified.getTime() - Date.now()) < 600_000, head.LastModified.toISOString());

  const got = await s3.send(new GetObjectCommand({ Bucket: name, Key: "data/file.txt" }));
  assert.equal(got.$metadata.httpStatusCode, 200);
  assert.equal(await got.Body.transformToString(), data.toString());
  assert.equal(got.ETag, head.ETag);
  assert.deepEqual(got.Metadata, head.Metadata);
  assert.equal(got.LastModified.getTime(), head.LastModified.getTime());

  // With checksum mode on, the stored CRC32 comes back, and the SDK validates the body against it.
  const checked = await s3.send(new GetObjectCommand({ Bucket: name, Key: "data/file.txt", ChecksumMode: "ENABLED" }));
  assert.equal(checked.ChecksumCRC32, crc32Of(data));
  assert.equal(checked.ChecksumType, "FULL_OBJECT");
  assert.equal(await checked.Body.transformToString(), data.toString());
  const headChecked = await s3.send(new HeadObjectCommand({ Bucket: name, Key: "data/file.txt",
    ChecksumMode: "ENABLED" }));
  assert.equal(headChecked.ChecksumCRC32, crc32Of(data));
  const overridden = await s3.send(new GetObjectCommand({ Bucket: name, Key: "data/file.txt",
    ResponseContentType: "application/json", ResponseCacheControl: "no-store", ResponseExpires: new Date(0) }));
  assert.deepEqual([overridden.ContentType, overridden.CacheControl, overridden.ExpiresString],
    ["application/json", "no-store", "Thu, 01 Jan 1970 00:00:00 GMT"]);
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: name, Key: "data/file.txt" }))).ContentType,
    "text/plain");

  const range = await s3.send(new GetObjectCommand({ Bucket: name, Key: "data/file.txt", Range: "bytes=2-5" }));
  assert.equal(range.$metadata.httpStatusCode, 206);
  assert.equal(await range.Body.transformToString(), "2345");
  assert.equal(range.ContentRange, `bytes 2-5/${data.length}`);
  assert.equal(range.ContentLength, 4);
  const suffix = await s3.send(new GetObjectCommand({ Bucket: name, Key: "data/file.txt", Range: "bytes=-3" }));
  assert.equal(await suffix.Body.transformToString(), "hij");
  const open = await s3.send(new GetObjectCommand({ Bucket: name, Key: "data/file.txt", Range: "bytes=18-" }));
  assert.equal(await open.Body.transformToString(), "ij");
  const beyond = await rejection(s3.send(new GetObjectCommand({ Bucket: name, Key: "data/file.txt",
    Range: "bytes=50-60" })));
  assert.equal(beyond.name, "InvalidRange");
  assert.equal(beyond.$metadata.httpStatusCode, 416);

  // A 304 has no body (HTTP forbids one), so the connection the SDK keeps open serves the next call cleanly.
  const same = await rejection(s3.send(new GetObjectCommand({ Bucket: name, Key: "data/file.txt",
    IfNoneMatch: head.ETag })));
  assert.equal(same.$metadata.httpStatusCode, 304);
  assert.equal(same.$response.headers.etag, head.ETag);
  const unchanged = await rejection(s3.send(new GetObjectCommand({ Bucket: name, Key: "data/file.txt",
    IfModifiedSince: new Date(Date.now() + 60_000) })));
  assert.equal(unchanged.$metadata.httpStatusCode, 304);
  const modified = await s3.send(new GetObjectCommand({ Bucket: name, Key: "data/file.txt",
    IfNoneMatch: '"0123"' }));
  assert.equal(await modified.Body.transformToString(), data.toString());
  const changed = await rejection(s3.send(new GetObjectCommand({ Bucket: name, Key: "data/file.txt",
    IfMatch: '"0123"' })));
  assert.equal(changed.name, "PreconditionFailed");
  assert.equal(changed.$metadata.httpStatusCode, 412);
});

test("paginateListObjectsV2 over several pages, with prefixes, delimiters and StartAfter", async () => {
  const name = await bucket();
  const keys = [];
  for (const folder of ["alpha", "beta", "gamma"]) {
    for (let i = 0; i < 4; i += 1) keys.push(`${folder}/item-${i}.txt`);
  }
  keys.push("alpha/deep/nested.txt", "root-1.txt", "root-2.txt");
  await Promise.all(keys.map((key) => s3.send(new PutObjectCommand({ Bucket: name, Key: key, Body: key }))));
  const sorted = [...keys].sort();

  const all = await collect(paginateListObjectsV2({ client: s3, pageSize: 4 }, { Bucket: name }), "Contents");
  assert.deepEqual(all.items.map((o) => o.Key), sorted);
  assert.equal(all.pages, Math.ceil(keys.length / 4));
  assert.ok(all.items.every((o) => o.Size === Buffer.byteLength(o.Key) && o.ETag === etagOf(o.Key)
    && o.StorageClass === "STANDARD" && o.LastModified instanceof Date));

  const alpha = await collect(paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: name,
    Prefix: "alpha/" }), "Contents");
  assert.deepEqual(alpha.items.map((o) => o.Key), sorted.filter((k) => k.startsWith("alpha/")));
  assert.equal(alpha.pages, 3);

  // With a delimiter, the folders roll up into common prefixes, each counting once against the page size.
  const pages = [];
  for await (const page of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: name, Delimiter: "/" })) {
    pages.push({ prefixes: (page.CommonPrefixes ?? []).map((p) => p.Prefix),
      keys: (page.Contents ?? []).map((o) => o.Key), count: page.KeyCount, truncated: page.IsTruncated });
  }
  assert.deepEqual(pages, [
    { prefixes: ["alpha/", "beta/"], keys: [], count: 2, truncated: true },
    { prefixes: ["gamma/"], keys: ["root-1.txt"], count: 2, truncated: true },
    { prefixes: [], keys: ["root-2.txt"], count: 1, truncated: false },
  ]);
  const nested = await s3.send(new ListObjectsV2Command({ Bucket: name, Prefix: "alpha/", Delimiter: "/" }));
  assert.deepEqual(nested.CommonPrefixes, [{ Prefix: "alpha/deep/" }]);
  assert.equal(nested.Contents.length, 4);
  const later = await s3.send(new ListObjectsV2Command({ Bucket: name, StartAfter: "gamma/item-3.txt" }));
  assert.deepEqual(later.Contents.map((o) => o.Key), ["root-1.txt", "root-2.txt"]);
  assert.equal(later.StartAfter, "gamma/item-3.txt");
});

test("DeleteObjects deletes many (its required checksum sent by the SDK), quietly or not", async () => {
  const name = await bucket();
  const client = pathStyle();
  const sent = record(client);
  for (const key of ["a", "b", "c", "d"]) await s3.send(new PutObjectCommand({ Bucket: name, Key: key, Body: key }));
  const deleted = await client.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: [{ Key: "a" },
    { Key: "b" }, { Key: "never-there" }] } }));
  assert.deepEqual(deleted.Deleted.map((d) => d.Key).sort(), ["a", "b", "never-there"]);
  assert.equal(deleted.Errors, undefined);
  const request = sent.find((r) => r.method === "POST");
  assert.equal(request.query.delete, "");
  assert.equal(request.headers["x-amz-checksum-crc32"], crc32Of(Buffer.from(request.body)));

  const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Quiet: true,
    Objects: [{ Key: "c" }, { Key: "d", VersionId: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY" }] } }));
  assert.equal(quiet.Deleted, undefined);
  assert.deepEqual(quiet.Errors.map((e) => [e.Key, e.Code]), [["d", "NoSuchVersion"]]);
  const left = await s3.send(new ListObjectsV2Command({ Bucket: name }));
  assert.deepEqual(left.Contents.map((o) => o.Key), ["d"]);
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
