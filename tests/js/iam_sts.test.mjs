// IAM and STS through the JS SDK: paginators, waiters, and errors as the SDK's exception classes.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  EntityAlreadyExistsException,
  GetRoleCommand,
  IAMClient,
  IAMServiceException,
  ListRolesCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  paginateListRoles,
  paginateListUsers,
  waitUntilRoleExists,
} from "@aws-sdk/client-iam";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, STSServiceException } from "@aws-sdk/client-sts";

import { ACCOUNT, collect, config, credentialsOf, rejection, unique, waiter } from "./support.mjs";

const iam = new IAMClient(config());
const ACCOUNT_TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "sts:AssumeRole" }],
});

/** A new IAM user with no permissions at all, and its access key's credentials. */
async function powerlessUser() {
  const name = unique("js-nobody");
  const user = await iam.send(new CreateUserCommand({ UserName: name }));
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  return { name, arn: user.User.Arn, credentials: credentialsOf(key.AccessKey) };
}

test("paginateListRoles follows Marker over several pages, in IAM's order", async () => {
  const path = `/${unique("js-pages")}/`;
  const names = [];
  for (let i = 0; i < 5; i += 1) {
    const name = unique("js-paged");
    names.push(name);
    await iam.send(new CreateRoleCommand({ RoleName: name, Path: path, AssumeRolePolicyDocument: ACCOUNT_TRUST }));
  }
  const first = await iam.send(new ListRolesCommand({ PathPrefix: path, MaxItems: 2 }));
  assert.equal(first.IsTruncated, true);
  assert.equal(typeof first.Marker, "string");
  assert.equal(first.Roles.length, 2);
  const { items, pages } = await collect(paginateListRoles({ client: iam, pageSize: 2 }, { PathPrefix: path }),
    "Roles");
  assert.equal(pages, 3);
  assert.deepEqual(items.map((r) => r.RoleName), [...names].sort());
  assert.ok(items.every((r) => r.Path === path && r.Arn === `arn:aws:iam::${ACCOUNT}:role${path}${r.RoleName}`));
});

test("paginateListUsers returns each user once across pages", async () => {
  const path = `/${unique("js-users")}/`;
  const names = [];
  for (let i = 0; i < 3; i += 1) {
    const name = unique("js-user");
    names.push(name);
    await iam.send(new CreateUserCommand({ UserName: name, Path: path }));
  }
  const { items, pages } = await collect(paginateListUsers({ client: iam, pageSize: 1 }, { PathPrefix: path }),
    "Users");
  assert.equal(pages, 3);
  assert.deepEqual(items.map((u) => u.UserName), [...names].sort());
});

test("waitUntilRoleExists retries on NoSuchEntity until the role appears", async () => {
  const name = unique("js-later");
  const later = new Promise((resolve, reject) => {
    setTimeout(() => {
      iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: ACCOUNT_TRUST })).then(resolve, reject);
    }, 300);
  });
  const result = await waitUntilRoleExists(waiter(iam, 20), { RoleName: name });
  await later;
  assert.equal(result.state, "SUCCESS");
  assert.equal(result.reason.Role.RoleName, name);
});

test("a missing role is NoSuchEntityException with HTTP 404", async () => {
  const error = await rejection(iam.send(new GetRoleCommand({ RoleName: "js-no-such-role" })));
  assert.ok(error instanceof NoSuchEntityException, error.name);
  assert.ok(error instanceof IAMServiceException);
  assert.equal(error.name, "NoSuchEntityException");
  assert.equal(error.Code, "NoSuchEntity");
  assert.equal(error.message, "The role with name js-no-such-role cannot be found.");
  assert.equal(error.$fault, "client");
  assert.equal(error.$metadata.httpStatusCode, 404);
  assert.match(error.$metadata.requestId, /^[0-9a-f-]{36}$/);
});

test("a duplicate role is EntityAlreadyExistsException (409); a bad trust policy MalformedPolicyDocumentException",
  async () => {
    const name = unique("js-dup");
    await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: ACCOUNT_TRUST }));
    const duplicate = await rejection(iam.send(new CreateRoleCommand({ RoleName: name,
      AssumeRolePolicyDocument: ACCOUNT_TRUST })));
    assert.ok(duplicate instanceof EntityAlreadyExistsException, duplicate.name);
    assert.equal(duplicate.message, `Role with name ${name} already exists.`);
    assert.equal(duplicate.$metadata.httpStatusCode, 409);

    const malformed = await rejection(iam.send(new CreateRoleCommand({ RoleName: unique("js-bad"),
      AssumeRolePolicyDocument: "{not json" })));
    assert.ok(malformed instanceof MalformedPolicyDocumentException, malformed.name);
    assert.equal(malformed.$metadata.httpStatusCode, 400);
  });

test("a name breaking the model's pattern is IAM's ValidationError", async () => {
  const error = await rejection(iam.send(new GetRoleCommand({ RoleName: "no spaces allowed" })));
  assert.ok(error instanceof IAMServiceException);
  assert.equal(error.name, "ValidationError");
  assert.equal(error.message, "1 validation error detected: Value 'no spaces allowed' at 'roleName' failed to satisfy "
    + "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+");
  assert.equal(error.$metadata.httpStatusCode, 400);
});

test("a user without permissions is AccessDenied (403), naming the action and resource", async () => {
  const nobody = await powerlessUser();
  const client = new IAMClient(config(nobody.credentials));
  const getRole = await rejection(client.send(new GetRoleCommand({ RoleName: "anything" })));
  assert.equal(getRole.name, "AccessDenied");
  assert.equal(getRole.$metadata.httpStatusCode, 403);
  assert.equal(getRole.message, `User: ${nobody.arn} is not authorized to perform: iam:GetRole on resource: `
    + `role anything because no identity-based policy allows the iam:GetRole action`);
  // A list action names the path it lists (AWS: "... on resource: arn:aws:iam::<account>:role/ ...").
  const listRoles = await rejection(client.send(new ListRolesCommand({})));
  assert.equal(listRoles.name, "AccessDenied");
  assert.equal(listRoles.$metadata.httpStatusCode, 403);
  assert.equal(listRoles.message, `User: ${nobody.arn} is not authorized to perform: iam:ListRoles on resource: `
    + `arn:aws:iam::${ACCOUNT}:role/ because no identity-based policy allows the iam:ListRoles action`);
});

test("STS: GetCallerIdentity needs no permission; AssumeRole refuses root and an untrusted caller", async () => {
  const nobody = await powerlessUser();
  const sts = new STSClient(config(nobody.credentials));
  const me = await sts.send(new GetCallerIdentityCommand({}));
  assert.deepEqual([me.Arn, me.Account], [nobody.arn, ACCOUNT]);

  const name = unique("js-trusting");
  const role = await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: ACCOUNT_TRUST }));
  const byRoot = await rejection(new STSClient(config()).send(new AssumeRoleCommand({ RoleArn: role.Role.Arn,
    RoleSessionName: "root" })));
  assert.ok(byRoot instanceof STSServiceException);
  assert.equal(byRoot.name, "AccessDenied");
  assert.equal(byRoot.message, "Roles may not be assumed by root accounts.");
  assert.equal(byRoot.$metadata.httpStatusCode, 403);

  // The trust policy delegates to the account, but the user's own policies allow nothing.
  const denied = await rejection(sts.send(new AssumeRoleCommand({ RoleArn: role.Role.Arn, RoleSessionName: "js-session" })));
  assert.equal(denied.name, "AccessDenied");
  assert.equal(denied.$metadata.httpStatusCode, 403);
  assert.equal(denied.message, `User: ${nobody.arn} is not authorized to perform: sts:AssumeRole on resource: `
    + `${role.Role.Arn} because no identity-based policy allows the sts:AssumeRole action`);
});

test("STS: a wrong secret is SignatureDoesNotMatch, an unknown key InvalidClientTokenId", async () => {
  const nobody = await powerlessUser();
  const wrong = new STSClient(config({ ...nobody.credentials, secretAccessKey: "not-the-secret" }));
  const mismatch = await rejection(wrong.send(new GetCallerIdentityCommand({})));
  assert.equal(mismatch.name, "SignatureDoesNotMatch");
  assert.equal(mismatch.$metadata.httpStatusCode, 403);
  const unknown = new STSClient(config({ accessKeyId: "AKIAAAAAAAAAAAAAAAAA", secretAccessKey: "x" }));
  const invalid = await rejection(unknown.send(new GetCallerIdentityCommand({})));
  assert.equal(invalid.name, "InvalidClientTokenId");
  assert.equal(invalid.message, "The security token included in the request is invalid.");
  assert.equal(invalid.$metadata.httpStatusCode, 403);
});
