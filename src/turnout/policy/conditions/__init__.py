"""Condition operators, one module per family, with set qualifiers, IfExists and Null handled in ``sets.py``."""

from turnout.policy.conditions.base import Clause, Operator, Qualifier
from turnout.policy.conditions.registry import OPERATOR_NAMES, compile_conditions, lookup
from turnout.policy.conditions.sets import evaluate_clause

__all__ = ["OPERATOR_NAMES", "Clause", "Operator", "Qualifier", "compile_conditions", "evaluate_clause", "lookup"]
