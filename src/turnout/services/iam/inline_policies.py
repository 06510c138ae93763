"""Inline policies of roles, users and groups: put, get, delete, list."""

from __future__ import annotations

from typing import Any

from ...core.context import RequestContext
from . import policydoc
from .common import no_such_entity, paged
from .policy_refs import Entity, check_modifiable, entity_row
from .role_parts import role_row
from .store import inline_policies as inline_store
from .store.records import EntityKind, InlinePolicy


class InlinePolicyOperations:
    """Mixed into :class:`IamProvider` (through :class:`PolicyOperations`)."""

    db: Any

    def _inline_entity(self, kind: EntityKind, account: str, name: str) -> Entity:
        if kind == "role":
            row: Entity = role_row(self.db, account, name)
            return row
        return entity_row(self.db, account, kind, name)

    def _put_inline(self, ctx: RequestContext, kind: EntityKind, name: str, req: dict[str, Any]) -> None:
        account = ctx.account_id
        entity = self._inline_entity(kind, account, name)
        check_modifiable(kind, entity)
        policy_name = req["PolicyName"]
        document = req["PolicyDocument"]
        policydoc.check(document, "identity")
        others = [p.document for p in inline_store.of_entity(self.db, account, kind, entity.name_lower)
                  if p.policy_name != policy_name]
        # The quota is on all of the entity's inline policies together (RolePolicySize and the like).
        policydoc.check_inline_aggregate([*others, document], kind, entity.name)
        inline_store.put(self.db, InlinePolicy(account, kind, entity.name_lower, policy_name, document))

    def _inline_row(self, kind: EntityKind, account: str, entity: Entity, policy_name: str) -> InlinePolicy:
        row = inline_store.get(self.db, account, kind, entity.name_lower, policy_name)
        if row is None:
            raise no_such_entity(f"The {kind} policy with name {policy_name} cannot be found.")
        return row

    def _get_inline(self, ctx: RequestContext, kind: EntityKind, name: str, req: dict[str, Any]) -> dict[str, Any]:
        entity = self._inline_entity(kind, ctx.account_id, name)
        row = self._inline_row(kind, ctx.account_id, entity, req["PolicyName"])
        return {f"{kind.capitalize()}Name": entity.name, "PolicyName": row.policy_name,
                "PolicyDocument": row.document}

    def _delete_inline(self, ctx: RequestContext, kind: EntityKind, name: str, req: dict[str, Any]) -> None:
        entity = self._inline_entity(kind, ctx.account_id, name)
        check_modifiable(kind, entity)
        row = self._inline_row(kind, ctx.account_id, entity, req["PolicyName"])
        inline_store.delete(self.db, ctx.account_id, kind, entity.name_lower, row.policy_name)

    def _list_inline(self, ctx: RequestContext, kind: EntityKind, name: str, req: dict[str, Any]
                     ) -> dict[str, Any]:
        entity = self._inline_entity(kind, ctx.account_id, name)
        names = inline_store.names(self.db, ctx.account_id, kind, entity.name_lower)
        return paged(names, lambda policy_name: policy_name, req, "PolicyNames")

    # -- roles ---------------------------------------------------------------------------------------------

    def put_role_policy(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        self._put_inline(ctx, "role", req["RoleName"], req)

    def get_role_policy(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self._get_inline(ctx, "role", req["RoleName"], req)

    def delete_role_policy(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        self._delete_inline(ctx, "role", req["RoleName"], req)

    def list_role_policies(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self._list_inline(ctx, "role", req["RoleName"], req)

    # -- users ---------------------------------------------------------------------------------------------

    def put_user_policy(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        self._put_inline(ctx, "user", req["UserName"], req)

    def get_user_policy(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self._get_inline(ctx, "user", req["UserName"], req)

    def delete_user_policy(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        self._delete_inline(ctx, "user", req["UserName"], req)

    def list_user_policies(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self._list_inline(ctx, "user", req["UserName"], req)

    # -- groups --------------------------------------------------------------------------------------------

    def put_group_policy(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        self._put_inline(ctx, "group", req["GroupName"], req)

    def get_group_policy(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self._get_inline(ctx, "group", req["GroupName"], req)

    def delete_group_policy(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        self._delete_inline(ctx, "group", req["GroupName"], req)

    def list_group_policies(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        return self._list_inline(ctx, "group", req["GroupName"], req)
