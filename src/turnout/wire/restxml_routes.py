"""Which rest-xml operation a request is: method, path shape and query markers, as the model's ``requestUri``s say.

S3 puts many operations on one path: ``GET /{Bucket}`` is ListObjects, ``GET /{Bucket}?tagging`` GetBucketTagging,
``GET /{Bucket}?list-type=2`` ListObjectsV2; ``PUT /{Bucket}/{Key+}`` is PutObject, UploadPart (with the required
``partNumber`` and ``uploadId``) or CopyObject (with the required ``x-amz-copy-source`` header). An operation
matches when the method and path shape agree and every query marker of its ``requestUri`` (``?tagging``,
``?list-type=2``) and every required query-string or header member is present; the most specific match wins, and
of equally specific ones the operation the model does not mark deprecated.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache

from botocore.model import OperationModel, ServiceModel


@dataclass(frozen=True, slots=True)
class Route:
    operation: str
    method: str
    shape: str  # "root" (/), "bucket" (/{Bucket}), "object" (/{Bucket}/{Key+}) or a literal path
    markers: tuple[tuple[str, str | None], ...]  # query keys (with the value they must have, if any)
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]

    @property
    def weight(self) -> int:
        return len(self.markers) + len(self.required_query) + len(self.required_headers)


def _route(operation: OperationModel) -> Route:
    uri = operation.http["requestUri"]
    path, _, query = uri.partition("?")
    markers: list[tuple[str, str | None]] = []
    for part in query.split("&") if query else ():
        key, sep, value = part.partition("=")
        if key != "x-id":  # botocore's operation-name marker: sent by some versions, never required
            markers.append((key, value if sep else None))
    if path == "/":
        shape = "root"
    elif path == "/{Bucket}":
        shape = "bucket"
    elif path.startswith("/{Bucket}/{Key+}"):
        shape = "object"
    else:
        shape = path
    required_query: list[str] = []
    required_headers: list[str] = []
    input_shape = operation.input_shape
    if input_shape is not None:
        for name in input_shape.required_members:
            member = input_shape.members[name]
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "querystring":
                required_query.append(wire)
            elif location == "header":
                required_headers.append(wire.lower())
    return Route(operation.name, operation.http["method"], shape, tuple(markers), tuple(required_query),
                 tuple(required_headers))


@cache
def _routes(model: ServiceModel) -> dict[tuple[str, str], list[Route]]:
    table: dict[tuple[str, str], list[Route]] = {}
    deprecated: set[str] = set()
    for name in model.operation_names:
        operation = model.operation_model(name)
        if operation.deprecated:
            deprecated.add(name)
        route = _route(operation)
        table.setdefault((route.method, route.shape), []).append(route)
    for routes in table.values():
        # Of two operations on one route, the current one: GetBucketNotification (deprecated) and
        # GetBucketNotificationConfiguration are both ``GET /{Bucket}?notification``.
        routes.sort(key=lambda r: (-r.weight, r.operation in deprecated))
    return table


def path_shape(bucket: str | None, key: str | None, path: str) -> str:
    if not bucket:
        return "root" if path in ("", "/") else path
    return "object" if key else "bucket"


def find(model: ServiceModel, method: str, shape: str, query: Mapping[str, str],
         headers: Collection[str]) -> str | None:
    """The operation a request with this method, path shape, query and (lower-case) header names is; None when
    no operation fits."""
    for route in _routes(model).get((method, shape), ()):
        if any(key not in query or (value is not None and query[key] != value) for key, value in route.markers):
            continue
        if any(name not in query for name in route.required_query):
            continue
        if any(name not in headers for name in route.required_headers):
            continue
        return route.operation
    return None
