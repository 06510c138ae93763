"""The resources a call named, as CloudTrail records them.

Each resource has its ARN, the account in the ARN and a CloudTrail resource type (``AWS::IAM::Role``...): that is
the record's ``resources`` element. ``LookupEvents`` shows and matches them as ``ResourceType`` and
``ResourceName``, the name being the identifier as requests name the resource: an IAM role, user, group or
instance profile by its name, an EC2 resource by its id, everything else (policies, load balancers, target
groups, ECS and CloudTrail resources) by its ARN. AWS documents no rule for the name; this follows what its event
history shows for these services (names as the request gave them).

Where the resources come from: the authorization checks of the call (``ctx.annotations["authz"]``, every
resource the call was authorized on, PassRole included), or the request context's checks when IAM is not
enforced, plus any ARN the request carries in a top-level parameter (``PolicyArn``, ``TargetGroupArn``...).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...core.context import RequestContext

log = logging.getLogger("turnout.cloudtrail")

# CloudTrail's type for an ARN's service and resource kind (the text before the first "/" of its resource part).
_TYPES: dict[tuple[str, str], str] = {
    ("iam", "role"): "AWS::IAM::Role",
    ("iam", "user"): "AWS::IAM::User",
    ("iam", "group"): "AWS::IAM::Group",
    ("iam", "policy"): "AWS::IAM::Policy",
    ("iam", "instance-profile"): "AWS::IAM::InstanceProfile",
    ("iam", "oidc-provider"): "AWS::IAM::OIDCProvider",
    ("iam", "saml-provider"): "AWS::IAM::SAMLProvider",
    ("iam", "server-certificate"): "AWS::IAM::ServerCertificate",
    ("iam", "mfa"): "AWS::IAM::MFADevice",
    ("sts", "assumed-role"): "AWS::STS::AssumedRole",
    ("sts", "federated-user"): "AWS::STS::FederatedUser",
    ("elasticloadbalancing", "loadbalancer"): "AWS::ElasticLoadBalancingV2::LoadBalancer",
    ("elasticloadbalancing", "listener"): "AWS::ElasticLoadBalancingV2::Listener",
    ("elasticloadbalancing", "listener-rule"): "AWS::ElasticLoadBalancingV2::ListenerRule",
    ("elasticloadbalancing", "targetgroup"): "AWS::ElasticLoadBalancingV2::TargetGroup",
    ("elasticloadbalancing", "truststore"): "AWS::ElasticLoadBalancingV2::TrustStore",
    ("ec2", "vpc"): "AWS::EC2::VPC",
    ("ec2", "elastic-ip"): "AWS::EC2::EIP",
    ("ec2", "natgateway"): "AWS::EC2::NatGateway",
    ("ec2", "dhcp-options"): "AWS::EC2::DHCPOptions",
    ("ec2", "vpc-endpoint"): "AWS::EC2::VPCEndpoint",
    ("ecs", "task-definition"): "AWS::ECS::TaskDefinition",
    ("cloudtrail", "eventdatastore"): "AWS::CloudTrail::EventDataStore",
}
_SERVICE_NAMES = {"iam": "IAM", "sts": "STS", "ec2": "EC2", "ecs": "ECS", "cloudtrail": "CloudTrail",
                  "elasticloadbalancing": "ElasticLoadBalancingV2"}
# Types named in lookups by their name (the last segment of the ARN's resource part) rather than by ARN.
_BY_NAME = frozenset({"AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::InstanceProfile"})
_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Resource:
    arn: str
    account_id: str  # "" when the ARN has no account (AWS managed policies)
    type: str
    name: str  # LookupEvents' ResourceName

    def element(self) -> dict[str, str]:
        """The record's ``resources`` entry."""
        if self.account_id:
            return {"accountId": self.account_id, "type": self.type, "ARN": self.arn}
        return {"type": self.type, "ARN": self.arn}


_cache: dict[str, Resource | None] = {}


def _camel(kind: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in kind.replace("_", "-").split("-"))


def resource(arn: str) -> Resource | None:
    """The resource an ARN names, or None for what is not one resource (wildcards, malformed ARNs)."""
    found = _cache.get(arn)
    if found is not None or arn in _cache:
        return found
    result = _resource(arn)
    if len(_cache) >= _CACHE_SIZE:
        _cache.clear()
    _cache[arn] = result
    return result


def _resource(arn: str) -> Resource | None:
    if "*" in arn or "?" in arn:
        return None
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[2] or not parts[5]:
        return None
    service, account, rest = parts[2], parts[4], parts[5]
    if rest.endswith("/"):
        return None  # a path (``role/``, ``role/app/``: what IAM's List* calls are authorized on), not a resource
    kind, slash, tail = rest.partition("/")
    if not slash:
        kind, _, tail = rest.partition(":")
    if service == "iam" and kind == "assumed-role":
        service = "sts"
    if service == "s3":  # arn:aws:s3:::bucket and arn:aws:s3:::bucket/key carry no resource type
        kind = "Object" if slash else "Bucket"
    rtype = _TYPES.get((service, kind)) or (
        f"AWS::{_SERVICE_NAMES.get(service, _camel(service))}::{_camel(kind)}" if kind else ""
    )
    if not rtype:
        return None
    if rtype in _BY_NAME:
        name = tail.rsplit("/", 1)[-1] or arn
    elif service == "ec2":
        name = tail or arn
    else:
        name = arn
    owner = account if len(account) == 12 and account.isdigit() else ""
    return Resource(arn, owner, rtype, name)


def authorized_arns(ctx: RequestContext) -> tuple[str, ...]:
    """The resources the call was authorized on (its checks', when IAM is not enforced), as given."""
    authorization = ctx.annotations.get("authz")  # turnout.authz.authorizer.ANNOTATION
    evaluated = getattr(authorization, "evaluated", None)
    if evaluated is not None:
        return tuple([item.check.resource for item in evaluated])
    try:  # IAM not enforced: the checks the call would have been authorized on
        from ...authz.context import checks_for

        return tuple([check.resource for check in checks_for(ctx)])
    except Exception:  # never fail recording on this
        log.debug("no checks for %s", ctx.request_id, exc_info=True)
        return ()


def _parameter_arns(params: dict[str, Any]) -> list[str]:
    found = []
    for value in params.values():
        if isinstance(value, str):
            if value.startswith("arn:"):
                found.append(value)
        elif isinstance(value, list):
            found.extend(v for v in value if isinstance(v, str) and v.startswith("arn:"))
    return found


def resources_of(ctx: RequestContext, authorized: tuple[str, ...] | None = None) -> list[Resource]:
    """The resources ``ctx``'s call named, each once, in the order first named (``authorized``: the call's
    :func:`authorized_arns`, when already known)."""
    seen: set[str] = set()
    out: list[Resource] = []
    for arn in (*(authorized_arns(ctx) if authorized is None else authorized), *_parameter_arns(ctx.params)):
        if arn in seen:
            continue
        seen.add(arn)
        found = resource(arn)
        if found is not None:
            out.append(found)
    return out
