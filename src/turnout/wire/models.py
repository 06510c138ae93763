"""The services Turnout speaks, and their botocore models (loaded lazily, cached)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import cached_property

import botocore.loaders
from botocore.model import OperationModel, ServiceModel

_loader_lock = threading.Lock()
_loader: botocore.loaders.Loader | None = None


def _load_service_model(name: str) -> ServiceModel:
    """botocore's model of service ``name``, read as a botocore session reads it (its data loader, with
    ``AWS_DATA_PATH``), without importing the session and the client machinery it brings (a tenth of a second
    less of every server start)."""
    global _loader
    with _loader_lock:
        if _loader is None:
            _loader = botocore.loaders.create_loader(os.environ.get("AWS_DATA_PATH"))
        loader = _loader
    return ServiceModel(loader.load_service_model(name, "service-2"), service_name=name)


@dataclass(eq=False)
class ServiceSpec:
    """One AWS service: its name here, botocore's name, signing name and protocol."""

    name: str  # turnout's name for it, also botocore's service name
    signing_name: str
    protocol: str  # query | ec2 | json | rest-xml
    api_version: str
    target_prefix: str | None = None
    event_source: str = ""
    is_global: bool = False
    # Wire quirks beyond the model, kept as data:
    # - shapes whose strings travel URL-encoded inside the XML (IAM's policy documents);
    url_encoded_shapes: frozenset[str] = frozenset()
    # - timestamps written with milliseconds (``2016-03-25T21:26:12.920Z`` in the ELBv2 API reference; EC2 too),
    #   where IAM and STS write whole seconds;
    timestamp_millis: bool = False
    # - members whose enum the service checks itself, answering its own error rather than the generic validation
    #   one: ECS answers a bad lifecycle hook targetType with "Invalid targetType. Valid values are: AWS_LAMBDA,
    #   PAUSE"; CloudTrail an unknown Insights type or event category with InvalidInsightSelectorsException (the
    #   model's documentation of that error); S3 a bad LocationConstraint with its own InvalidLocationConstraint.
    self_checked_enums: tuple[str, ...] = ()
    _ops_by_lower: dict[str, str] = field(default_factory=dict, repr=False)
    _operations: dict[str, OperationModel] = field(default_factory=dict, repr=False)  # by name, as asked for

    @cached_property
    def model(self) -> ServiceModel:
        return _load_service_model(self.name)

    def operation(self, name: str) -> OperationModel | None:
        """The operation ``name``, or None when the model has no such operation."""
        found = self._operations.get(name)
        if found is not None:
            return found  # the model's own (botocore caches one OperationModel per name): kept here, one lookup
        if not self._ops_by_lower:
            self._ops_by_lower.update({n: n for n in self.model.operation_names})
        real = self._ops_by_lower.get(name)
        if real is None:
            return None
        found = self._operations[name] = self.model.operation_model(real)
        return found


SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec("iam", "iam", "query", "2010-05-08", event_source="iam.amazonaws.com", is_global=True,
                    url_encoded_shapes=frozenset({"policyDocumentType"})),
        ServiceSpec("sts", "sts", "query", "2011-06-15", event_source="sts.amazonaws.com", is_global=True),
        ServiceSpec(
            "elbv2", "elasticloadbalancing", "query", "2015-12-01",
            event_source="elasticloadbalancing.amazonaws.com", timestamp_millis=True,
        ),
        ServiceSpec("ec2", "ec2", "ec2", "2016-11-15", event_source="ec2.amazonaws.com", timestamp_millis=True),
        ServiceSpec(
            "ecs", "ecs", "json", "2014-11-13",
            target_prefix="AmazonEC2ContainerServiceV20141113", event_source="ecs.amazonaws.com",
            self_checked_enums=("targetType",),
        ),
        ServiceSpec(
            "cloudtrail", "cloudtrail", "json", "2013-11-01",
            target_prefix="com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
            event_source="cloudtrail.amazonaws.com", self_checked_enums=("insightType", "eventCategories"),
        ),
        ServiceSpec("s3", "s3", "rest-xml", "2006-03-01", event_source="s3.amazonaws.com",
                    self_checked_enums=("locationConstraint",)),
    )
}

BY_TARGET_PREFIX = {s.target_prefix: s for s in SERVICES.values() if s.target_prefix}
BY_VERSION = {s.api_version: s for s in SERVICES.values() if s.protocol in ("query", "ec2")}
BY_SIGNING_NAME: dict[str, list[ServiceSpec]] = {}
for _spec in SERVICES.values():
    BY_SIGNING_NAME.setdefault(_spec.signing_name, []).append(_spec)
