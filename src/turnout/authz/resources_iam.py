"""IAM: where each operation's resources and condition keys come from.

Roles, users and groups are named by the request and carry a path the database knows, so their ARNs (with the
path, as AWS evaluates them) come from one query that also brings the entity's tags and permissions boundary.
An entity that does not exist gets the path-less ARN, as AWS reports it. Other IAM resources are ARNs in the
request or templates filled from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..core import arns
from ..reference.authorization import ServiceReference
from .checks import ContextValue
from .ports import Identities
from .resources_base import (
    STAR,
    Custom,
    Env,
    Extra,
    Param,
    Resolver,
    ServiceRules,
    Spec,
    Target,
    custom,
    given,
    param,
    template,
    value_of,
)

ENTITY_KINDS = frozenset({"role", "user", "group"})


def identities_of(env: Env) -> Identities:
    """IAM's state as authorization reads it (wired at start: ``Gateway.identities``)."""
    identities: Identities | None = env.ctx.gateway.identities
    if identities is None:
        raise LookupError("the gateway has no IAM identities wired (server.build_gateway wires them)")
    return identities


def entity(env: Env, kind: str, name: str, account: str | None = None) -> Target:
    """The role, user or group ``name`` of ``account`` (the request's by default) as a target: its ARN with path,
    tags, boundary and trust policy; the path-less ARN (no tags) when it does not exist."""
    account = env.account if account is None else account
    found = identities_of(env).entity_facts(account, kind, name)
    if found is None:
        return Target(arns.iam(account, kind, "/", name), kind, tags={}, exists=False)
    boundary = found.permissions_boundary
    facts: dict[str, ContextValue] = {"iam:PermissionsBoundary": boundary} if boundary else {}
    return Target(found.arn, kind, tags=dict(found.tags), facts=facts, policy=found.trust_policy)


@dataclass(frozen=True)
class Entity(Spec):
    """A role, user or group named by ``name``. With ``path`` (a create) the ARN is built from the request.
    ``caller``: without the name parameter the entity is the calling IAM user (AWS's default for these)."""

    name: Param
    path: Param | None = None
    caller: bool = False

    @property
    def needs(self) -> tuple[tuple[str, ...], ...]:
        return () if self.caller else (self.name.needs,)

    def bind(self, service: ServiceReference) -> Resolver:
        kind, name_source, path_source, caller = self.types[0], self.name, self.path, self.caller

        def resolve(env: Env) -> list[Target]:
            name = name_source.raw(env.params)
            if not isinstance(name, str):
                principal = env.ctx.principal
                if caller and principal is not None and principal.type == "IAMUser" and principal.name:
                    return [entity(env, kind, principal.name)]
                return []  # root or a session without the name: nothing to derive (the call fails later)
            if path_source is not None:
                path = path_source.raw(env.params)
                new = arns.iam(env.account, kind, path if isinstance(path, str) else "/", name)
                return [Target(new, kind, tags={}, exists=False)]
            return [entity(env, kind, name)]

        return resolve


def _entity(kind: str, name: str, *, path: str | None = None, caller: bool = False) -> Entity:
    return Entity((kind,), param(name), param(path, default="/") if path else None, caller)


def _with_path(name: str) -> Param:
    """A ``...NameWithPath`` placeholder of a create: the request's ``Path`` (``/`` by default) and name."""
    return param(name, path="Path")


# -- specials ----------------------------------------------------------------------------------------------------


def _renamed(kind: str, name_param: str, new_name: str) -> Custom:
    """The ARN an entity gets from UpdateUser/UpdateGroup/UpdateServerCertificate: AWS requires permission on
    both the source and the target object of a rename."""

    def new(env: Env) -> Iterable[str]:
        params = env.params
        if not params.get(new_name) and not params.get("NewPath"):
            return ()
        name = params.get(new_name) or params[name_param]
        path = params.get("NewPath")
        if not path:
            current = entity(env, kind, params[name_param]) if kind in ENTITY_KINDS else None
            path = _path_of(current.arn, kind) if current is not None and current.exists else "/"
        return (arns.iam(env.account, kind, path, name),)

    return custom(new, kind, needs=(name_param,))


def _path_of(arn: str, kind: str) -> str:
    resource = arn.split(":", 5)[5][len(kind):]
    return resource.rsplit("/", 1)[0] + "/"


def _key_owner(env: Env) -> Iterable[str | Target]:
    """GetAccessKeyLastUsed: the user the key belongs to."""
    key = env.params.get("AccessKeyId")
    owner = identities_of(env).access_key_user(key) if isinstance(key, str) else None
    if owner is not None:
        return (entity(env, "user", owner),)
    principal = env.ctx.principal
    return (principal.arn,) if principal is not None and principal.type == "IAMUser" else ()


def _service_linked_role(env: Env) -> Iterable[str]:
    """CreateServiceLinkedRole: the role the service's definition names (``/aws-service-role/<service>/``)."""
    service = env.params.get("AWSServiceName")
    if not isinstance(service, str):
        return ()
    spec = identities_of(env).linked_role(service)
    suffix = env.params.get("CustomSuffix")
    if spec is None:  # a service Turnout does not link: the role name is AWS's choice, unknown here
        return (arns.role(env.account, "*", f"/aws-service-role/{service}/"),)
    name = spec.role_name if not suffix else f"{spec.role_name}_{suffix}"
    return (arns.role(env.account, name, spec.path),)


def _deletion_task_role(env: Env) -> Iterable[str]:
    """``task/aws-service-role/<service>/<role>/<uuid>`` -> the service-linked role the task deletes."""
    task = env.params.get("DeletionTaskId")
    parts = task.split("/") if isinstance(task, str) else []
    if len(parts) < 5 or parts[0] != "task":
        return ()
    return (arns.role(env.account, parts[-2], "/" + "/".join(parts[1:-2]) + "/"),)


def _listed_path(kind: str) -> Custom:
    """ListRoles, ListUsers, ListGroups, ListInstanceProfiles: the reference lists no resource type, but IAM
    authorizes (and names in its denial) the path listed: ``arn:aws:iam::<account>:role/`` for the default
    PathPrefix ``/``, ``arn:aws:iam::<account>:role/prefix/`` for ``/prefix/`` (observed denial: "... iam:ListRoles
    on resource: arn:aws:iam::<account>:role/ because no identity-based policy allows the iam:ListRoles action").
    So ``Resource: arn:aws:iam::*:role/*`` allows ListRoles, and ``role/app/*`` allows it only with PathPrefix
    ``/app/`` (or below)."""

    def listed(env: Env) -> Iterable[Target]:
        prefix = env.params.get("PathPrefix")
        path = prefix if isinstance(prefix, str) and prefix else "/"
        return (Target(arns.iam(env.account, kind, path, ""), kind, tags={}),)

    return custom(listed, kind)


PATH_LISTS = {
    "ListRoles": "role", "ListUsers": "user", "ListGroups": "group", "ListInstanceProfiles": "instance-profile",
    # Observed: "... iam:ListPolicies on resource: policy path /" (the path of arn:aws:iam::<account>:policy/).
    "ListPolicies": "policy",
}


def _oidc_host(url: str) -> str:
    return url.split("://", 1)[-1].rstrip("/")


# -- the tables --------------------------------------------------------------------------------------------------

ROLE = _entity("role", "RoleName")
USER = _entity("user", "UserName", caller=True)
GROUP = _entity("group", "GroupName")
MFA = given("SerialNumber", "mfa", "sms-mfa")
CERTIFICATE = template("server-certificate", CertificateNameWithPath=param("ServerCertificateName"))
DELEGATION = template("delegation-request", DelegationRequestId=param("DelegationRequestId"))

DEFAULTS: dict[str, tuple[Spec, ...]] = {
    "role": (ROLE,),
    "user": (USER,),
    "group": (GROUP,),
    "policy": (given("PolicyArn", "policy"),),
    "instance-profile": (template("instance-profile", InstanceProfileNameWithPath=param("InstanceProfileName")),),
    "oidc-provider": (given("OpenIDConnectProviderArn", "oidc-provider"),),
    "saml-provider": (given("SAMLProviderArn", "saml-provider"),),
    "server-certificate": (CERTIFICATE,),
    "mfa": (MFA,),
    "sms-mfa": (MFA,),
    "delegation-request": (DELEGATION,),
    "access-report": (template("access-report", EntityPath=param("EntityPath")),),
}

_PRINCIPAL_ARN = given("PolicySourceArn", "group", "role", "user")
_ANY_ENTITY = given("Arn", "group", "policy", "role", "user")

OPS: dict[str, tuple[Spec, ...]] = {
    # Creates: the ARN from the request (the path given, "/" by default); generated ids are "*".
    "CreateRole": (_entity("role", "RoleName", path="Path"),),
    "CreateUser": (_entity("user", "UserName", path="Path"),),
    "CreateGroup": (_entity("group", "GroupName", path="Path"),),
    "CreatePolicy": (template("policy", PolicyNameWithPath=_with_path("PolicyName")),),
    "CreateInstanceProfile": (
        template("instance-profile", InstanceProfileNameWithPath=_with_path("InstanceProfileName")),),
    "UploadServerCertificate": (
        template("server-certificate", CertificateNameWithPath=_with_path("ServerCertificateName")),),
    "CreateVirtualMFADevice": (template("mfa", MfaTokenIdWithPath=_with_path("VirtualMFADeviceName")),),
    "CreateSAMLProvider": (template("saml-provider", SamlProviderName=param("Name")),),
    "CreateOpenIDConnectProvider": (template("oidc-provider", OidcProviderName=param("Url", reduce=_oidc_host)),),
    "CreateDelegationRequest": (template("delegation-request", DelegationRequestId=STAR),),
    "CreateServiceLinkedRole": (custom(_service_linked_role, "role", needs=("AWSServiceName",)),),
    "GetServiceLinkedRoleDeletionStatus": (custom(_deletion_task_role, "role", needs=("DeletionTaskId",)),),
    "GetAccessKeyLastUsed": (custom(_key_owner, "user", needs=("AccessKeyId",)),),
    # Renames: the entity under its current and its new name.
    "UpdateUser": (USER, _renamed("user", "UserName", "NewUserName")),
    "UpdateGroup": (GROUP, _renamed("group", "GroupName", "NewGroupName")),
    "UpdateServerCertificate": (
        CERTIFICATE, _renamed("server-certificate", "ServerCertificateName", "NewServerCertificateName")),
    # The entity an ARN parameter names.
    "GenerateServiceLastAccessedDetails": (_ANY_ENTITY,),
    "ListPoliciesGrantingServiceAccess": (_ANY_ENTITY,),
    "GetContextKeysForPrincipalPolicy": (_PRINCIPAL_ARN,),
    "SimulatePrincipalPolicy": (_PRINCIPAL_ARN,),
    "GetHumanReadableSummary": (given("EntityArn", "delegation-request"),),
    # Lists of a path (see _listed_path).
    **{operation: (_listed_path(kind),) for operation, kind in PATH_LISTS.items()},
    # Operations newer than the reference (see UNCATALOGUED): the resource their parameters name.
    "UpdateOpenIDConnectProvider": (given("OpenIDConnectProviderArn", "oidc-provider"),),
    "UpdateDelegationRequest": (DELEGATION,),
}

REQUEST_KEYS = {
    # The boundary a request sets (CreateUser, CreateRole, Put*PermissionsBoundary); for the other actions that
    # list the key, the entity's current boundary, which the entity lookup supplies.
    "iam:PermissionsBoundary": value_of("PermissionsBoundary"),
    "iam:PolicyARN": value_of("PolicyArn"),
    "iam:AWSServiceName": value_of("AWSServiceName"),
    "iam:OrganizationsPolicyId": value_of("OrganizationsPolicyId"),
    "iam:ServiceSpecificCredentialServiceName": value_of("ServiceName"),
    "iam:ServiceSpecificCredentialAgeDays": value_of("CredentialAgeDays"),
    "iam:DelegationDuration": value_of("SessionDuration"),
    "iam:NotificationChannel": value_of("NotificationChannel"),
    "iam:TemplateArn": value_of("Permissions.PolicyTemplateArn"),
}

# Operations of the botocore model the reference (2025-12-02) does not list. AWS names new actions after their
# operations; Turnout checks them under that name (on "*" unless OPS names a resource). A newer model's operation
# that is neither here nor in the reference, and that Turnout does not serve, never reaches authorization: the
# gateway answers NotImplemented (tests/unit/authz/test_context.py holds both rules).
UNCATALOGUED = {
    "AcquireRole": "newer than the reference",
    "GetAccountProperties": "newer than the reference",
    "PutAccountProperties": "newer than the reference",
    "GetRoleTemplateVersion": "newer than the reference",
    "UpdateDelegationRequest": "newer than the reference; on the delegation request",
    "UpdateOpenIDConnectProvider": "newer than the reference; on the OIDC provider",
}


def iam_tags(env: Env, account: str, arn: str) -> dict[str, str]:
    """Stored tags of an IAM role, user or customer managed policy named by ARN (others have none stored)."""
    parts = arn.split(":", 5)
    kind, _, rest = (parts[5] if len(parts) == 6 else "").partition("/")
    if kind == "policy":
        key = arn
    elif kind in ("role", "user"):
        key = rest.rsplit("/", 1)[-1].lower()
    else:
        return {}
    return identities_of(env).tags(account, kind, key)


# AddRoleToInstanceProfile: "The caller of this operation must be granted the PassRole permission on the IAM role
# by a permissions policy" (IAM API reference; the authorization reference lists iam:PassRole as its dependent
# action). AWS does not say which service it reports as iam:PassedToService here, so the key is left absent.
EXTRAS = {"AddRoleToInstanceProfile": (Extra("PassRole", lambda params: True, specs=(ROLE,)),)}

RULES = ServiceRules(prefix="iam", defaults=DEFAULTS, ops=OPS, request_keys=REQUEST_KEYS, extras=EXTRAS)
