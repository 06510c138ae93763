"""What every ``Describe*`` shares: ``Marker``/``PageSize`` pagination and lookups by name or ARN."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ...store.db import Database
from ..pagination import page
from .errors import lb_not_found, tg_not_found, validation
from .store import (
    LoadBalancer,
    TargetGroup,
    all_load_balancers,
    all_target_groups,
    get_load_balancer,
    get_target_group,
    target_groups_of,
)

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 400  # the largest PageSize the model allows; AWS returns everything up to it by default
MAX_ARNS = 20  # "You can specify up to 20 load balancers in a single call."


def paged(items: list[T], key: Callable[[T], str], req: dict[str, Any], result_key: str) -> dict[str, Any]:
    """``{result_key: [...], NextMarker?}``: the items after ``Marker``, at most ``PageSize``."""
    chunk, marker = page(items, key, req.get("Marker"), req.get("PageSize"), default=DEFAULT_PAGE_SIZE,
                         error=validation)
    result: dict[str, Any] = {result_key: chunk}
    if marker is not None:
        result["NextMarker"] = marker
    return result


def load_balancers(db: Database, account: str, region: str, req: dict[str, Any]) -> list[LoadBalancer]:
    """The load balancers ``Names`` or ``LoadBalancerArns`` select (all of the region's when neither)."""
    names = req.get("Names") or []
    arns = req.get("LoadBalancerArns") or []
    if names and arns:
        raise validation("Load balancer names and load balancer ARNs cannot be specified at the same time")
    if len(arns) > MAX_ARNS:
        # Our wording for the documented limit of 20 ARNs per call.
        raise validation(f"You can specify up to {MAX_ARNS} load balancer ARNs in a single call")
    if arns:
        return [get_load_balancer(db, account, region, arn) for arn in dict.fromkeys(arns)]
    found = all_load_balancers(db, account, region)
    if not names:
        return found
    by_name = {lb.name: lb for lb in found}
    if any(name not in by_name for name in names):
        raise lb_not_found()
    return [by_name[name] for name in dict.fromkeys(names)]


def target_groups(db: Database, account: str, region: str, req: dict[str, Any]) -> list[TargetGroup]:
    """The target groups ``LoadBalancerArn``, ``TargetGroupArns`` or ``Names`` select (all when none)."""
    lb_arn = req.get("LoadBalancerArn")
    names = req.get("Names") or []
    arns = req.get("TargetGroupArns") or []
    if sum(1 for given in (lb_arn, names, arns) if given) > 1:
        # Our wording: AWS accepts only one of the three filters.
        raise validation("Only one of LoadBalancerArn, TargetGroupArns or Names can be specified")
    if arns:
        return [get_target_group(db, account, region, arn) for arn in dict.fromkeys(arns)]
    found = all_target_groups(db, account, region)
    if lb_arn:
        get_load_balancer(db, account, region, lb_arn)
        used = set(target_groups_of(db, account, region, lb_arn))
        return [tg for tg in found if tg.arn in used]
    if not names:
        return found
    by_name = {tg.name: tg for tg in found}
    if any(name not in by_name for name in names):
        raise tg_not_found()
    return [by_name[name] for name in dict.fromkeys(names)]
