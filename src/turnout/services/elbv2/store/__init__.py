"""The ELB store: the only code with SQL for the ``elbv2_*`` tables (migrations 0007 and 0013).

Module functions taking the request's :class:`~turnout.store.db.Database` first; they return frozen records
(:class:`LoadBalancer`, :class:`Listener`, :class:`Rule`, :class:`TargetGroup`, :class:`Target`, :class:`Tag`) with
JSON columns decoded and timestamps as datetimes, and writes take records or typed arguments. ``get_*`` raises the
resource's NotFound error as the API answers it (ValidationError for a malformed ARN); ``find_*`` returns None for
a resource that is not there; the bare lookups (``load_balancer``, ``listener``...) check no ARN and serve other
packages (ECS reads its load balancers' state through them).

The records' lists and dicts are the decoded JSON: treat them as read-only (copy before changing, then write the
copy with ``dataclasses.replace``).
"""

from __future__ import annotations

from .common import KINDS, LB_ARN, LISTENER_ARN, RULE_ARN, TG_ARN, TRUST_STORE_ARN
from .listeners import (
    Listener,
    add_listener,
    count_listeners,
    delete_listener,
    get_listener,
    listener,
    listener_on_port,
    listeners_of,
    update_listener,
    update_listener_extra,
)
from .load_balancers import (
    LoadBalancer,
    add_load_balancer,
    all_load_balancers,
    count_load_balancers,
    delete_load_balancer,
    find_load_balancer,
    get_load_balancer,
    load_balancer,
    load_balancer_named,
    network_in_use,
    update_load_balancer,
)
from .rule_targets import action_target_groups, in_use, load_balancers_using, target_groups_of
from .rules import (
    Rule,
    add_rule,
    count_rules,
    delete_rule,
    get_rule,
    priority_taken,
    rule,
    rules_of,
    set_priority,
    update_rule,
)
from .tags import Tag, drop_tags, put_tags, remove_tag, tags_of
from .target_groups import (
    TargetGroup,
    add_target_group,
    all_target_groups,
    count_target_groups,
    delete_target_group,
    find_target_group,
    get_target_group,
    target_group,
    target_group_named,
    update_target_group,
)
from .targets import (
    Target,
    add_target,
    delete_target,
    deregister_target,
    registered,
    report_health,
    reregister_target,
    targets_of,
)

__all__ = [
    "KINDS",
    "LB_ARN",
    "LISTENER_ARN",
    "RULE_ARN",
    "TG_ARN",
    "TRUST_STORE_ARN",
    "Listener",
    "LoadBalancer",
    "Rule",
    "Tag",
    "Target",
    "TargetGroup",
    "action_target_groups",
    "add_listener",
    "add_load_balancer",
    "add_rule",
    "add_target",
    "add_target_group",
    "all_load_balancers",
    "all_target_groups",
    "count_listeners",
    "count_load_balancers",
    "count_rules",
    "count_target_groups",
    "delete_listener",
    "delete_load_balancer",
    "delete_rule",
    "delete_target",
    "delete_target_group",
    "deregister_target",
    "drop_tags",
    "find_load_balancer",
    "find_target_group",
    "get_listener",
    "get_load_balancer",
    "get_rule",
    "get_target_group",
    "in_use",
    "listener",
    "listener_on_port",
    "listeners_of",
    "load_balancer",
    "load_balancer_named",
    "load_balancers_using",
    "network_in_use",
    "priority_taken",
    "put_tags",
    "registered",
    "remove_tag",
    "report_health",
    "reregister_target",
    "rule",
    "rules_of",
    "set_priority",
    "tags_of",
    "target_group",
    "target_group_named",
    "target_groups_of",
    "targets_of",
    "update_listener",
    "update_listener_extra",
    "update_load_balancer",
    "update_rule",
    "update_target_group",
]
