// S3 objects through the JS SDK (rest-xml): PutObject with the SDK's default flexible checksums (a CRC32 header,
// or an aws-chunked body with a CRC32 trailer) and every other algorithm it offers, S3's default CRC64NVME, a
// multipart upload, keys with reserved characters, GetObject/HeadObject (ranges, conditions, checksum mode,
// response-* overrides), paginated listings with delimiters, DeleteObjects.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { test } from "node:test";

import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NotFound,
  PutObjectCommand,
  UploadPartCommand,
  paginateListObjectsV2,
} from "@aws-sdk/client-s3";

import { bucket, crc32Of, etagOf, pathStyle, record, s3, virtualHosted } from "./s3_support.mjs";
import { ROOT, collect, rejection } from "./support.mjs";

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
