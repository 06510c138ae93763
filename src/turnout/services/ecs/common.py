"""Shared helpers of the ECS provider: JSON codecs, timestamps, errors, names and ``nextToken`` paging."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from ...wire.errors import ServiceError, model_error

T = TypeVar("T")

# Cluster names and task definition families: "Up to 255 letters (uppercase and lowercase), numbers,
# underscores, and hyphens are allowed." (ECS API reference, CreateCluster.clusterName / family).
NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
ARN = re.compile(r"^arn:aws[a-z-]*:ecs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<kind>[a-z-]+)/(?P<rest>.+)$")


def error(name: str, message: str, **fields: Any) -> ServiceError:
    """The modelled ECS error ``name`` (code and status from botocore's model), with its extra ``fields``
    (ConflictException's ``resourceIds``)."""
    from ...wire.models import SERVICES

    return model_error(SERVICES["ecs"].model, name, message, **fields)


def invalid(message: str) -> ServiceError:
    return error("InvalidParameterException", message)


def client(message: str) -> ServiceError:
    return error("ClientException", message)


def cluster_not_found() -> ServiceError:
    return error("ClusterNotFoundException", "Cluster not found.")


def created_when(value: datetime | str) -> datetime:
    """The ``createdAt`` a client sees of something a request created: its instant rounded up to the whole
    millisecond. JSON 1.1 timestamps carry milliseconds (the wire truncates), and a client compares this time with
    the instant it sent the request: the Terraform provider's steady-state waiter only follows a PRIMARY
    deployment created after its call, and a local call can answer within the same millisecond (our choice: AWS's
    network latency makes its times later anyway)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.microsecond % 1000:
        value += timedelta(microseconds=1000 - value.microsecond % 1000)
    return value


def page(items: Sequence[T], key: Callable[[T], str], token: str | None, max_results: int | None,
         *, default: int = 100) -> tuple[list[T], str | None]:
    """Items (already in order) after ``token``, at most ``max_results``; and the next token, if any."""
    if max_results is not None and not 1 <= max_results <= 100:
        # AWS's wording for List* maxResults out of range.
        raise invalid("maxResults can be between 1 and 100.")
    start = 0
    if token:
        try:
            after = base64.urlsafe_b64decode(token.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise invalid("Invalid token") from None  # our wording: AWS does not document it
        keys = [key(item) for item in items]
        if after not in keys:
            raise invalid("Invalid token")
        start = keys.index(after) + 1
    limit = max_results if max_results is not None else default
    chunk = list(items[start:start + limit])
    more = start + limit < len(items) and chunk
    return chunk, base64.urlsafe_b64encode(key(chunk[-1]).encode()).decode() if more else None
