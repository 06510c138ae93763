"""Which load balancers use a target group, read from the listeners' and rules' actions.

The listener and rule operations store actions in botocore's shape (a list of ``Action``): a ``forward`` action
names its target groups in ``TargetGroupArn`` and/or ``ForwardConfig.TargetGroups[].TargetGroupArn``. The store
indexes every write of a rule's actions (a listener's default actions are its default rule's), so a target group
used only by a listener rule (or only with weight 0 in a weighted forward) counts as in use, as on AWS, and finding
its load balancers is an index lookup (``store/rule_targets.py``).
"""

from __future__ import annotations

from .store.rule_targets import BUILT as _BUILT
from .store.rule_targets import action_target_groups, in_use, load_balancers_using, target_groups_of

__all__ = ["_BUILT", "action_target_groups", "in_use", "load_balancers_using", "target_groups_of"]
