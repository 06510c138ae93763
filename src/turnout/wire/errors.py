"""AWS-style errors, built in one place.

A provider raises :class:`ServiceError`; the serializer of the request's protocol turns it into the wire
form AWS uses (query XML, EC2 XML or JSON 1.1). Service-specific errors are looked up in the service model
(:func:`model_error`) so that codes and HTTP statuses come from botocore's data, not from hand-kept tables.
"""

from __future__ import annotations

from typing import Any

from botocore.model import ServiceModel


class ServiceError(Exception):
    """An error answered to the client: code, message, HTTP status and extra members."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        sender_fault: bool = True,
        fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        self.fields = fields or {}

    def __repr__(self) -> str:
        return f"ServiceError({self.code!r}, {self.message!r}, {self.status})"


def _error_index(model: ServiceModel) -> dict[str, tuple[str, int, bool]]:
    """Map shape name and wire code of every error shape to (code, status, sender fault)."""
    cached: dict[str, tuple[str, int, bool]] | None = getattr(model, "_turnout_errors", None)
    if cached is not None:
        return cached
    index: dict[str, tuple[str, int, bool]] = {}
    for shape in model.error_shapes:
        meta = shape.metadata.get("error", {})
        code = meta.get("code", shape.name)
        entry = (code, int(meta.get("httpStatusCode", 400)), bool(meta.get("senderFault", True)))
        index[shape.name] = entry
        index.setdefault(code, entry)
    model._turnout_errors = index
    return index


def model_error(model: ServiceModel, name: str, message: str, **fields: Any) -> ServiceError:
    """Build the error ``name`` (a shape name or wire code) of ``model`` with its modelled status."""
    code, status, sender = _error_index(model).get(name, (name, 400, True))
    return ServiceError(code, message, status, sender_fault=sender, fields=fields)


def internal_failure() -> ServiceError:
    return ServiceError(
        "InternalFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
        500,
        sender_fault=False,
    )


def not_implemented(service: str, operation: str) -> ServiceError:
    # AWS has no public error for "exists in the model, not here"; NotImplemented/501 is the code AWS's
    # own front ends use for unsupported functionality, so SDKs surface it as a clear, non-retryable error.
    return ServiceError(
        "NotImplemented",
        f"The operation {operation} of service {service} is not implemented by Turnout.",
        501,
        sender_fault=False,
    )


def unknown_operation(protocol: str, action: str, version: str | None = None) -> ServiceError:
    if protocol == "json":
        return ServiceError("UnknownOperationException", "", 400)
    return ServiceError(
        "InvalidAction",
        f"Could not find operation {action} for version {version or 'NO_VERSION_SPECIFIED'}",
        400,
    )


def validation_error(protocol: str, message: str) -> ServiceError:
    if protocol == "rest-xml":  # S3 answers a request it cannot accept with InvalidArgument / InvalidRequest
        return ServiceError("InvalidRequest", message, 400)
    code = "ValidationException" if protocol == "json" else "ValidationError"
    return ServiceError(code, message, 400)


def malformed_input(protocol: str, message: str) -> ServiceError:
    if protocol == "json":
        return ServiceError("SerializationException", message, 400)
    return ServiceError("MalformedQueryString", message, 400)
