// Shared by the S3 tests of the JS SDK suite (s3.test.mjs, s3_objects.test.mjs): path-style and virtual-hosted
// clients, a recorder of what the SDK sends, checksums and ETags computed here, buckets and a user with no policy.
import { createHash } from "node:crypto";
import dns from "node:dns";
import http from "node:http";
import { crc32 } from "node:zlib";

import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

import { ENDPOINT, ROOT, config, credentialsOf, unique } from "./support.mjs";

export const PORT = new URL(ENDPOINT).port;
export const OTHER_REGION = "eu-west-1";

/** `bucket.localhost` is loopback (RFC 6761), but not every resolver says so (glibc does not): the SDK's
 * virtual-hosted requests are sent to 127.0.0.1 with their `Host: bucket.localhost:PORT` unchanged. */
function loopback(hostname, options, callback) {
  if (hostname === "localhost" || hostname.endsWith(".localhost")) {
    return options.all ? callback(null, [{ address: "127.0.0.1", family: 4 }]) : callback(null, "127.0.0.1", 4);
  }
  return dns.lookup(hostname, options, callback);
}

/** Every request `client` sends, as the HTTP handler receives it (signed, checksummed, body encoded). */
export function record(client) {
  const sent = [];
  client.middlewareStack.add((next) => async (args) => {
    const { method, hostname, path, query, headers, body } = args.request;
    sent.push({ method, hostname, path, query: { ...query }, headers: { ...headers }, body });
    return next(args);
  }, { step: "deserialize", name: "recordRequests", priority: "low" });
  return sent;
}

/** A path-style client (`http://127.0.0.1:PORT/bucket/key`). */
export function pathStyle(credentials = ROOT, region = "us-east-1", extra = {}) {
  return new S3Client({ ...config(credentials), region, forcePathStyle: true, ...extra });
}

/** A virtual-hosted-style client: endpoint `http://localhost:PORT`, which the SDK turns into `bucket.localhost`. */
export function virtualHosted() {
  return new S3Client({
    ...config(), endpoint: `http://localhost:${PORT}`,
    requestHandler: { httpAgent: new http.Agent({ lookup: loopback }) },
  });
}

export const s3 = pathStyle();
export const iam = new IAMClient(config());

export function crc32Of(data) {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(crc32(data));
  return value.toString("base64");
}

export function etagOf(data) {
  return `"${createHash("md5").update(data).digest("hex")}"`;
}

export async function bucket(client = s3) {
  const name = unique("js-bucket");
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/** A user with no policy at all, and its access key's credentials. */
export async function nobody() {
  const name = unique("js-s3-nobody");
  const user = await iam.send(new CreateUserCommand({ UserName: name }));
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  return { arn: user.User.Arn, credentials: credentialsOf(key.AccessKey) };
}
