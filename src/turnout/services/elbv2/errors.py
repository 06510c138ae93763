"""ELB's errors, by name: codes and HTTP statuses come from botocore's model, messages are AWS's.

Where AWS's exact wording is known (issue threads, CLI transcripts), it is used verbatim; where it is not, the
message is ours and the function says so in a one-line comment.
"""

from __future__ import annotations

from ...wire.errors import ServiceError, model_error
from ...wire.models import SERVICES


def error(name: str, message: str) -> ServiceError:
    """The modelled ELB error ``name`` (shape name or code), as :meth:`Provider.error` builds it."""
    return model_error(SERVICES["elbv2"].model, name, message)


def validation(message: str) -> ServiceError:
    # ELB answers input it rejects before looking anything up with the query protocol's ValidationError.
    return ServiceError("ValidationError", message, 400)


def invalid_config(message: str) -> ServiceError:
    return error("InvalidConfigurationRequest", message)


def lb_not_found() -> ServiceError:
    return error("LoadBalancerNotFound", "One or more load balancers not found")


def tg_not_found() -> ServiceError:
    return error("TargetGroupNotFound", "One or more target groups not found")


def listener_not_found() -> ServiceError:
    return error("ListenerNotFound", "One or more listeners not found")


def rule_not_found() -> ServiceError:
    return error("RuleNotFound", "One or more rules not found")


def trust_store_not_found() -> ServiceError:
    return error("TrustStoreNotFound", "One or more trust stores not found")


def invalid_target(message: str) -> ServiceError:
    return error("InvalidTarget", message)


def too_many_tags() -> ServiceError:
    return error("TooManyTags", "You've reached the limit on the number of tags for this resource.")


def duplicate_tag_keys(key: str) -> ServiceError:
    # Our wording (AWS's is not published): the model documents "A tag key was specified more than once".
    return error("DuplicateTagKeys", f"Tag key '{key}' was specified more than once")


def invalid_arn(arn: str, kind: str) -> ServiceError:
    # Our wording for a malformed ARN (AWS rejects it with ValidationError before any lookup).
    return validation(f"'{arn}' is not a valid {kind} ARN")
