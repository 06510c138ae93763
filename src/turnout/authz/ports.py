"""What authorization needs to know about identities, stated as protocols that IAM implements.

``authz`` imports no service. IAM's store implements these protocols (``services/iam/store/views.py``) and
``server.build_gateway`` hands the implementation to the gateway (``Gateway.identities``) and to the
:class:`~turnout.authz.authorizer.PolicyAuthorizer`. The records that cross are ``authz``'s own.

* :class:`PolicySource`: the identity-based policies of users, groups and roles, their boundaries and tags
  (``aws:PrincipalTag``), and managed policy documents, the account's own or AWS's (the catalogue).
* :class:`IamResources`: what IAM's own operations are authorized on: an entity's ARN with its path, tags,
  boundary and trust policy; an access key's user; the role a service-linked role service creates.
* :class:`Roles`: the role a caller passes (``iam:PassRole``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Identity:
    """A user, group or role whose policies apply to a caller."""

    kind: str  # user | group | role
    name_lower: str
    arn: str
    permissions_boundary: str | None  # a managed policy ARN (groups have none)


@dataclass(frozen=True, slots=True)
class InlinePolicy:
    name: str
    document: str


@dataclass(frozen=True, slots=True)
class EntityFacts:
    """A role, user or group as a resource of an IAM operation."""

    arn: str  # with its path
    trust_policy: str | None  # a role's, in its saved form (principals bound to unique ids)
    permissions_boundary: str | None
    tags: dict[str, str]


@dataclass(frozen=True, slots=True)
class PassedRole:
    """The role a caller may pass, as it is now."""

    arn: str
    name: str
    role_id: str
    account_id: str
    trust_policy: str  # the saved form (principals bound to unique ids), as the policy engine evaluates it


@dataclass(frozen=True, slots=True)
class LinkedRole:
    """The service-linked role a service's CreateServiceLinkedRole makes."""

    role_name: str
    path: str  # /aws-service-role/<service>/


class PolicySource(Protocol):
    def user_by_id(self, account: str, user_id: str) -> Identity | None:
        """The IAM user with unique id ``user_id``, or None."""

    def role_by_id(self, account: str, role_id: str) -> Identity | None:
        """The role with unique id ``role_id`` (a role deleted and created again is another role), or None."""

    def identity(self, account: str, kind: str, name: str) -> Identity | None:
        """The user, group or role ``name`` (case-insensitive), or None."""

    def inline_policies(self, account: str, identity: Identity) -> list[InlinePolicy]:
        """The entity's inline policies, by name."""

    def attached_policies(self, account: str, identity: Identity) -> list[str]:
        """The ARNs of the managed policies attached to the entity, in attachment order."""

    def groups_of(self, account: str, user: Identity) -> list[Identity]:
        """The groups the user is a member of, by name."""

    def tags(self, account: str, resource_type: str, resource_key: str) -> dict[str, str]:
        """The stored tags of a role or user (``resource_key``: its lower-case name) or of a customer managed
        policy (its ARN), in the order they were set."""

    def managed_policy_document(self, account: str, arn: str) -> str | None:
        """The default version's document of a managed policy: AWS's (the catalogue) or ``account``'s own."""


class IamResources(Protocol):
    def entity_facts(self, account: str, kind: str, name: str) -> EntityFacts | None:
        """The role, user or group ``name`` with its tags, boundary and trust policy (one read), or None."""

    def access_key_user(self, access_key_id: str) -> str | None:
        """The name of the IAM user who owns an access key, or None."""

    def linked_role(self, service: str) -> LinkedRole | None:
        """The role CreateServiceLinkedRole makes for ``service``, or None for a service Turnout does not link."""


class Roles(Protocol):
    def role_to_pass(self, account: str, name: str) -> PassedRole | None:
        """The role ``name`` of ``account`` (case-insensitive), or None."""


class Identities(PolicySource, IamResources, Roles, Protocol):
    """Everything authorization reads of IAM."""
