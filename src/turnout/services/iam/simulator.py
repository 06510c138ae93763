"""The IAM policy simulator: SimulatePrincipalPolicy, SimulateCustomPolicy, GetContextKeysForPrincipalPolicy and
GetContextKeysForCustomPolicy. Every decision is the engine's (:func:`turnout.policy.evaluate`), the one that
enforces IAM on every call; this module only gathers the policies and shapes the answer.

The answer, as AWS gives it today (IAM API reference, EvaluationResult; answers observed from AWS):

* One EvaluationResult per action, whatever the number of resources. Its EvalDecision is the most restrictive
  of the resources' decisions (explicitDeny, then implicitDeny, then allowed); MatchedStatements and
  MissingContextValues are the union over the resources; EvalResourceName is the ARN template of the action's
  resource type the resources are of (``*`` when the simulation is on ``*``, or when the action has no
  resource type Turnout's reference knows); ResourceSpecificResults holds one entry per resource named in
  ResourceArns.
* MatchedStatements lists the statements that produced the decision: the Deny statements for an explicit deny,
  the Allow statements for an allow, none for an implicit deny; never statements of SCPs.
  SourcePolicyId: ``PolicyInputList.<n>``, ``PermissionsBoundaryPolicyInputList.1``, ``ResourcePolicy``, a
  managed policy's name, ``<user|group|role>_<entity name>_<policy name>`` for an inline policy (observed for
  roles; users and groups follow the same form). SourcePolicyType: AWS answers ``IAM Policy`` for identity
  policies and ``Resource Policy`` for the resource policy (observed, although the model lists other values);
  a permissions boundary is an identity policy and reads ``IAM Policy`` too (our choice: not observed).
* MissingContextValues: the context keys the identity, boundary and resource policies read that ContextEntries
  does not supply, whichever statement reads them (AWS lists keys of statements about other actions too);
  SCPs' keys are never listed.
* EvalDecisionDetails: when a ResourcePolicy takes part, the outcome per policy type (``IAM Policy``,
  ``Resource Policy``, and ``Permissions Boundary Policy``, our name); an empty map for a same-account
  simulation on a named resource; absent on ``*`` and when an SCP denies.
* PermissionsBoundaryDecisionDetail whenever a boundary applies; OrganizationsDecisionDetail whenever SCPs
  (OrderedOrganizationPolicyInputList) are given. Turnout has no organisations, so SimulatePrincipalPolicy has
  no SCPs to apply.
* The simulator supplies no context of its own (our choice: AWS does not document any): every key a policy
  reads comes from ContextEntries.
* Without a ResourcePolicy, the resources are taken as the caller's own (the simulator reads no resource
  policies, so a resource of another account has nothing to grant with); with one, the resource's account is
  the one in its ARN, else ResourceOwner, else the caller's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...authz.policies import NoSuchEntity, entity_policies
from ...core.context import RequestContext
from ...policy import ALLOW, EXPLICIT_DENY, Decision, MatchedStatement, Policy, PolicySet, PolicyType, Position, Request
from ...policy import evaluate as decide
from ...policy.callers import principal_type_of
from ...policy.model import IAM_USER, Outcome
from ...reference.authorization import catalog
from ..pagination import decode_marker, encode_marker
from . import simulator_context as inputs
from .common import invalid_input, no_such_entity
from .store.views import IdentityViews

DEFAULT_MAX_ITEMS = 100
DECISIONS: dict[Outcome, str] = {"Allow": "allowed", "ImplicitDeny": "implicitDeny", "ExplicitDeny": "explicitDeny"}
_RESTRICTION = {"allowed": 0, "implicitDeny": 1, "explicitDeny": 2}
_DETAIL_NAMES = {
    PolicyType.IDENTITY: "IAM Policy",
    PolicyType.RESOURCE: "Resource Policy",
    PolicyType.BOUNDARY: "Permissions Boundary Policy",
}
# ResourceHandlingOption: the EC2 scenarios and the resource types each needs (IAM API reference).
_EC2_BASE = ("instance", "image", "security-group", "network-interface")
SCENARIOS = {
    "EC2-VPC-InstanceStore": _EC2_BASE,
    "EC2-VPC-InstanceStore-Subnet": (*_EC2_BASE, "subnet"),
    "EC2-VPC-EBS": (*_EC2_BASE, "volume"),
    "EC2-VPC-EBS-Subnet": (*_EC2_BASE, "subnet", "volume"),
}
CALLER_NOT_USER = "Invalid caller - Caller must be an IAM user in this context."  # observed


@dataclass(slots=True)
class Simulation:
    """Everything one simulation evaluates, and the request context it evaluates with."""

    identity: list[Policy]
    boundary: Policy | None
    resource_policy: Policy | None
    scps: list[list[Policy]] | None
    caller_arn: str | None
    caller_account: str
    owner: str | None
    context: dict[str, inputs.ContextValue]
    missing: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        read_by = [*self.identity, *((self.boundary,) if self.boundary else ()),
                   *((self.resource_policy,) if self.resource_policy else ())]
        self.missing = inputs.missing_keys(inputs.context_keys(read_by), self.context)

    def decide(self, action: str, resource: str) -> Decision:
        resource_account = None
        if self.resource_policy is not None:
            resource_account = inputs.account_of(resource) or self.owner or self.caller_account
        request = Request(
            principal_arn=self.caller_arn,
            principal_account=self.caller_account,
            principal_type=principal_type_of(self.caller_arn) if self.caller_arn else IAM_USER,
            action=action,
            resource=resource,
            resource_account=resource_account,
            context=self.context,
        )
        policies = PolicySet(identity=self.identity, resource=self.resource_policy, boundary=self.boundary,
                             scps=self.scps)
        return decide(request, policies)

    def resource_result(self, action: str, resource: str) -> tuple[dict[str, Any], Decision]:
        decision = self.decide(action, resource)
        result: dict[str, Any] = {
            "EvalResourceName": resource,
            "EvalResourceDecision": DECISIONS[decision.effect],
            "MatchedStatements": _statements(decision),
            "MissingContextValues": list(self.missing),
        }
        details = self._details(decision, resource)
        if details is not None:
            result["EvalDecisionDetails"] = details
        if self.boundary is not None:
            result["PermissionsBoundaryDecisionDetail"] = {
                "AllowedByPermissionsBoundary": decision.boundary_decision in (None, ALLOW)
            }
        return result, decision

    def _details(self, decision: Decision, resource: str) -> dict[str, str] | None:
        if self.scps is not None and decision.organizations_decision not in (None, ALLOW):
            return None
        if self.resource_policy is None:
            return None if resource == "*" else {}
        return {name: DECISIONS[outcome] for policy_type, name in _DETAIL_NAMES.items()
                if (outcome := decision.type_decisions.get(policy_type)) is not None}

    def action_result(self, action: str, resources: Sequence[str], named: bool) -> dict[str, Any]:
        """The EvaluationResult of one action over every resource (``named``: ResourceArns listed them)."""
        per_resource = [self.resource_result(action, resource) for resource in resources]
        decisions = [entry["EvalResourceDecision"] for entry, _ in per_resource]
        result: dict[str, Any] = {
            "EvalActionName": action,
            "EvalResourceName": _resource_name(action, resources),
            "EvalDecision": max(decisions, key=_RESTRICTION.__getitem__),
            "MatchedStatements": _union(entry["MatchedStatements"] for entry, _ in per_resource),
            "MissingContextValues": list(self.missing),
        }
        details = [entry["EvalDecisionDetails"] for entry, _ in per_resource if "EvalDecisionDetails" in entry]
        if details:
            merged: dict[str, str] = {}
            for entry in details:
                for name, value in entry.items():
                    if name not in merged or _RESTRICTION[value] > _RESTRICTION[merged[name]]:
                        merged[name] = value
            result["EvalDecisionDetails"] = merged
        if self.scps is not None:
            result["OrganizationsDecisionDetail"] = {
                "AllowedByOrganizations": all(d.organizations_decision in (None, ALLOW) for _, d in per_resource)
            }
        if self.boundary is not None:
            result["PermissionsBoundaryDecisionDetail"] = {
                "AllowedByPermissionsBoundary": all(
                    entry["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"]
                    for entry, _ in per_resource
                )
            }
        if named:
            result["ResourceSpecificResults"] = [entry for entry, _ in per_resource]
        return result


# -- shaping -----------------------------------------------------------------------------------------------------


def source_policy_id(policy_id: str) -> str:
    """How AWS names a policy in MatchedStatements (see the module docstring)."""
    entity_arn, sep, policy_name = policy_id.partition("#")
    if sep:
        found = inputs.entity(entity_arn)
        if found is not None:
            return f"{found.kind}_{found.name}_{policy_name}"
    if policy_id.startswith("arn:"):
        return policy_id.rsplit("/", 1)[-1]
    return policy_id


def _position(position: Position) -> dict[str, int]:
    return {"Line": position.line, "Column": position.column}


def _statement(matched: MatchedStatement) -> dict[str, Any]:
    out: dict[str, Any] = {
        "SourcePolicyId": source_policy_id(matched.policy_id),
        "SourcePolicyType": "Resource Policy" if matched.policy_type is PolicyType.RESOURCE else "IAM Policy",
    }
    if matched.start is not None and matched.end is not None:
        out["StartPosition"] = _position(matched.start)
        out["EndPosition"] = _position(matched.end)
    return out


def _statements(decision: Decision) -> list[dict[str, Any]]:
    if decision.effect == ALLOW:
        wanted = "Allow"
    elif decision.effect == EXPLICIT_DENY:
        wanted = "Deny"
    else:
        return []
    return _union([[_statement(m) for m in decision.matched
                    if m.effect == wanted and m.policy_type is not PolicyType.SCP]])


def _union(groups: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for group in groups:
        for item in group:
            if item not in out:
                out.append(item)
    return out


def _resource_name(action: str, resources: Sequence[str]) -> str:
    """The ARN template of the action's resource type the first named resource is of (see the docstring)."""
    named = [resource for resource in resources if resource != "*"]
    found = catalog().action_named(action)
    if not named or found is None or not found.resources:
        return "*"
    rows = [(resource_type, row.required) for row in found.resources
            if (resource_type := catalog().resource_type(found.service, row.resource_type)) is not None]
    for resource_type, _ in rows:
        if resource_type.matches(named[0]):
            return resource_type.arn
    if not rows:
        return "*"
    # A resource of none of the action's types: the template of its first required type (else its first type).
    required = [resource_type for resource_type, is_required in rows if is_required]
    return (required or [resource_type for resource_type, _ in rows])[0].arn


# -- checks --------------------------------------------------------------------------------------------------------


def _actions(names: Sequence[str]) -> list[str]:
    for name in names:
        prefix, colon, rest = name.partition(":")
        if not colon or not prefix or not rest:
            # Our wording: AWS requires the service prefix ("such as iam:CreateUser") without publishing a message.
            raise invalid_input(f"Invalid action name: {name}. An action name must include its service prefix.")
        if "*" in name or "?" in name:
            # Our wording: SimulateCustomPolicy "does not support using wildcards (*) in an action name".
            raise invalid_input(f"Invalid action name: {name}. Action names cannot contain wildcards.")
    return list(names)


def _scenario(option: str | None, resources: Sequence[str]) -> None:
    """ResourceHandlingOption: one of the EC2 scenarios, whose resource types must all be among ResourceArns."""
    if option is None:
        return
    needed = SCENARIOS.get(option)
    if needed is None:
        raise invalid_input(f"Invalid ResourceHandlingOption: {option}.")  # our wording
    missing = []
    for type_name in needed:
        resource_type = catalog().resource_type("ec2", type_name)
        if resource_type is not None and not any(resource_type.matches(arn) for arn in resources):
            missing.append(type_name)
    if missing:
        raise invalid_input(  # our wording: AWS says the scenario "requires" them without publishing a message
            f"The ResourceHandlingOption {option} requires resources of these types: {', '.join(missing)}."
        )


def _boundary(documents: Sequence[str] | None) -> Policy | None:
    if not documents:
        return None
    if len(documents) > 1:
        # Our wording: "You can input only one permissions boundary when you pass a policy to this operation."
        raise invalid_input("PermissionsBoundaryPolicyInputList can contain only one policy.")
    return inputs.identity_inputs(documents, "PermissionsBoundaryPolicyInputList", "boundary")[0]


def _scps(levels: Sequence[dict[str, Any]] | None) -> list[list[Policy]] | None:
    if not levels:
        return None
    found: list[list[Policy]] = []
    for number, level in enumerate(levels, 1):
        documents = level.get("ServiceControlPolicyInputList") or []
        if not documents:
            # Our wording: a level without SCPs would deny everything; AWS does not publish its message.
            raise invalid_input(f"OrderedOrganizationPolicyInputList.{number} must include at least one "
                                "service control policy.")
        found.append(inputs.identity_inputs(documents, f"OrderedOrganizationPolicyInputList.{number}"))
    return found


def _caller(arn: str | None) -> inputs.Entity | None:
    """CallerArn: a user, group or role ("You cannot specify the ARN of an assumed role, federated user, or a
    service principal"); it need not exist."""
    return None if arn is None else inputs.entity_or_error(arn)


def _page(req: dict[str, Any], count: int) -> tuple[int, int]:
    """(start, stop) of the page Marker and MaxItems ask for."""
    start = 0
    marker = req.get("Marker")
    if marker:
        decoded = decode_marker(marker, invalid_input)
        if not decoded.isdigit() or not 0 < int(decoded) < count:
            raise invalid_input("Invalid Marker.")
        start = int(decoded)
    limit = req.get("MaxItems") or DEFAULT_MAX_ITEMS
    return start, min(count, start + limit)


# -- operations ----------------------------------------------------------------------------------------------------


SOURCE_OPERATIONS = ("SimulatePrincipalPolicy", "GetContextKeysForPrincipalPolicy")


class SimulatorOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any

    def precheck(self, ctx: RequestContext) -> None:
        """IAM answers a PolicySourceArn that names no entity, or an entity of another account, with InvalidInput
        whatever the caller may do (observed): checked before the call is authorized."""
        if ctx.operation is not None and ctx.operation.name in SOURCE_OPERATIONS:
            self._source_entity(ctx, ctx.params.get("PolicySourceArn") or "")

    @staticmethod
    def _source_entity(ctx: RequestContext, arn: str) -> inputs.Entity:
        found = inputs.entity_or_error(arn)
        if found.account != ctx.account_id:
            raise invalid_input(f"Invalid Policy Source Arn: caller's account {ctx.account_id} does not have "
                                f"access to policies in account {found.account}")
        return found

    def _simulation_source(self, ctx: RequestContext, arn: str) -> tuple[inputs.Entity, Any]:
        found = self._source_entity(ctx, arn)
        try:
            return found, entity_policies(IdentityViews(self.db), ctx.account_id, arn)
        except NoSuchEntity:
            raise no_such_entity(f"The {found.kind} with name {found.name} cannot be found.") from None

    def _simulate(self, req: dict[str, Any], simulation: Simulation) -> dict[str, Any]:
        actions = _actions(req["ActionNames"])
        named = [arn for arn in req.get("ResourceArns") or () if arn != "*"]
        resources = list(dict.fromkeys(req.get("ResourceArns") or ["*"]))
        _scenario(req.get("ResourceHandlingOption"), resources)
        start, stop = _page(req, len(actions))
        results = [simulation.action_result(action, resources, bool(named)) for action in actions[start:stop]]
        out: dict[str, Any] = {"EvaluationResults": results, "IsTruncated": stop < len(actions)}
        if stop < len(actions):
            out["Marker"] = encode_marker(str(stop))
        return out

    def _simulation(self, ctx: RequestContext, req: dict[str, Any], identity: list[Policy], boundary: Policy | None,
                caller: inputs.Entity | None, scps: list[list[Policy]] | None) -> Simulation:
        resource_policy = None
        if req.get("ResourcePolicy") is not None:
            if caller is None or caller.kind != "user":
                raise invalid_input(CALLER_NOT_USER)
            resource_policy = inputs.resource_input(req["ResourcePolicy"])
        return Simulation(
            identity=identity,
            boundary=boundary,
            resource_policy=resource_policy,
            scps=scps,
            caller_arn=caller.arn if caller is not None else None,
            caller_account=caller.account if caller is not None else ctx.account_id,
            owner=inputs.owner_account(req.get("ResourceOwner")),
            context=inputs.context_values(req.get("ContextEntries")),
        )

    def simulate_principal_policy(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        source, found = self._simulation_source(ctx, req["PolicySourceArn"])
        excluded = inputs.exclusions(req.get("PolicyExclusionList"))
        identity = [p for p in found.identity if not excluded.excludes(p.policy_id)]
        identity.extend(inputs.identity_inputs(req.get("PolicyInputList"), "PolicyInputList"))
        boundary = _boundary(req.get("PermissionsBoundaryPolicyInputList"))
        if boundary is None and found.boundary is not None and not excluded.excludes(found.boundary.policy_id,
                                                                                      boundary=True):
            boundary = found.boundary
        caller = _caller(req.get("CallerArn")) or source
        return self._simulate(req, self._simulation(ctx, req, identity, boundary, caller, None))

    def simulate_custom_policy(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        identity = inputs.identity_inputs(req["PolicyInputList"], "PolicyInputList")
        boundary = _boundary(req.get("PermissionsBoundaryPolicyInputList"))
        scps = _scps(req.get("OrderedOrganizationPolicyInputList"))
        caller = _caller(req.get("CallerArn"))
        return self._simulate(req, self._simulation(ctx, req, identity, boundary, caller, scps))

    def get_context_keys_for_custom_policy(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        policies = inputs.lenient_inputs(req["PolicyInputList"], "PolicyInputList")
        return {"ContextKeyNames": inputs.context_keys(policies)}

    def get_context_keys_for_principal_policy(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        _, found = self._simulation_source(ctx, req["PolicySourceArn"])
        # The entity's boundary is read too (our choice): SimulatePrincipalPolicy evaluates it.
        policies = [*found.identity, *((found.boundary,) if found.boundary is not None else ())]
        policies.extend(inputs.lenient_inputs(req.get("PolicyInputList"), "PolicyInputList"))
        return {"ContextKeyNames": inputs.context_keys(policies)}
