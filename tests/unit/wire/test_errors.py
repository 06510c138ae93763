"""Errors on the wire: Turnout's error bodies, parsed by botocore as the SDKs parse them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

import boto3
import pytest
from botocore.parsers import create_parser

from turnout.core.context import RequestContext
from turnout.gateway import protocols
from turnout.wire.errors import (
    ServiceError,
    internal_failure,
    malformed_input,
    model_error,
    not_implemented,
    unknown_operation,
    validation_error,
)
from turnout.wire.jsonproto import JsonInputParser
from turnout.wire.models import SERVICES
from turnout.wire.query import QueryInputParser

REQUEST_ID = "5b1a6a8e-0000-4000-8000-00000000cafe"
TRICKY = "Policy <arn:aws:iam::123456789012:policy/a&b> \"q\" 'a' ünï 漢字 \U0001f642\r\nline ]]>"


def written(service: str, error: ServiceError) -> tuple[int, dict[str, str], bytes]:
    """What the gateway answers for ``error`` on a ``service`` request: status, headers, body."""
    ctx = RequestContext(cast(Any, None), REQUEST_ID, datetime.now(UTC), service=SERVICES[service])
    ctx.operation = SERVICES[service].model.operation_model(SERVICES[service].model.operation_names[0])
    ctx.error = error
    ctx.status = error.status  # what the gateway sets from the error
    status, headers, body = protocols.write(ctx)
    return status, {k.decode(): v.decode() for k, v in headers}, body


def parsed(service: str, error: ServiceError) -> dict[str, Any]:
    status, headers, body = written(service, error)
    protocol = SERVICES[service].protocol
    operation = SERVICES[service].model.operation_model(SERVICES[service].model.operation_names[0])
    result: dict[str, Any] = create_parser(protocol).parse(
        {"body": body, "headers": headers, "status_code": status}, operation.output_shape
    )
    assert result["ResponseMetadata"]["HTTPStatusCode"] == error.status
    return result


@pytest.mark.parametrize("service", ["iam", "sts", "elbv2"])
@pytest.mark.parametrize("status", [400, 403, 404, 409, 500, 503])
def test_query_errors(service: str, status: int) -> None:
    error = ServiceError("SomeCode", TRICKY, status, sender_fault=status < 500)
    status_sent, headers, _ = written(service, error)
    assert status_sent == status
    assert headers["content-type"] == "text/xml"
    assert headers["x-amzn-requestid"] == REQUEST_ID
    result = parsed(service, error)
    assert result["Error"] == {"Type": "Sender" if status < 500 else "Receiver", "Code": "SomeCode", "Message": TRICKY}
    assert result["ResponseMetadata"]["RequestId"] == REQUEST_ID


def test_query_error_extra_fields() -> None:
    error = ServiceError("Throttling", "Rate exceeded", 400, fields={"Resource": "a&b", "Count": 3})
    assert parsed("iam", error)["Error"] == {
        "Type": "Sender", "Code": "Throttling", "Message": "Rate exceeded", "Resource": "a&b", "Count": "3",
    }


@pytest.mark.parametrize("status", [400, 401, 403, 500, 503])
def test_ec2_errors(status: int) -> None:
    error = ServiceError("InvalidVpcID.NotFound", TRICKY, status)
    status_sent, _, body = written("ec2", error)
    assert status_sent == status
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>')
    result = parsed("ec2", error)
    assert result["Error"] == {"Code": "InvalidVpcID.NotFound", "Message": TRICKY}
    assert result["ResponseMetadata"]["RequestId"] == REQUEST_ID


@pytest.mark.parametrize("service", ["ecs", "cloudtrail"])
@pytest.mark.parametrize("status", [400, 403, 404, 409, 500, 503])
def test_json_errors(service: str, status: int) -> None:
    error = ServiceError("ClientException", TRICKY, status)
    status_sent, headers, _ = written(service, error)
    assert status_sent == status
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert headers["x-amzn-errortype"] == "ClientException"
    result = parsed(service, error)
    assert result["Error"] == {"Code": "ClientException", "Message": TRICKY}
    assert result["ResponseMetadata"]["RequestId"] == REQUEST_ID


def test_json_error_extra_fields_reach_the_client() -> None:
    error = ServiceError("ResourceInUseException", "in use", 400, fields={"resourceArn": "arn:x"})
    _, _, body = written("ecs", error)
    assert b'"resourceArn":"arn:x"' in body


MODELED = [
    (name, shape.name)
    for name in ("iam", "sts", "elbv2", "ecs", "cloudtrail")
    for shape in SERVICES[name].model.error_shapes
]


@pytest.mark.parametrize(("service", "shape"), MODELED, ids=[f"{s}.{e}" for s, e in MODELED])
def test_every_modeled_error_reaches_its_exception_class(service: str, shape: str) -> None:
    """A provider's ``self.error(ShapeName, ...)`` arrives as the SDK's modelled exception, with its status."""
    model = SERVICES[service].model
    error = model_error(model, shape, "message")
    meta = model.shape_for(shape).metadata.get("error", {})
    assert error.code == meta.get("code", shape)
    assert error.status == int(meta.get("httpStatusCode", 400))
    result = parsed(service, error)
    assert result["Error"]["Code"] == error.code
    client = _client(service)
    assert client.exceptions.from_code(result["Error"]["Code"]).__name__ == shape


_CLIENTS: dict[str, Any] = {}


def _client(service: str) -> Any:
    if service not in _CLIENTS:
        _CLIENTS[service] = boto3.client(service, region_name="us-east-1", aws_access_key_id="test",
                                         aws_secret_access_key="test")
    return _CLIENTS[service]


def test_model_error_by_wire_code_and_unknown_name() -> None:
    iam = SERVICES["iam"].model
    by_shape = model_error(iam, "NoSuchEntityException", "gone")
    by_code = model_error(iam, "NoSuchEntity", "gone")
    assert (by_shape.code, by_shape.status) == (by_code.code, by_code.status) == ("NoSuchEntity", 404)
    other = model_error(iam, "NotInTheModel", "x", Extra="y")
    assert (other.code, other.status, other.sender_fault, other.fields) == ("NotInTheModel", 400, True, {"Extra": "y"})


def test_common_errors() -> None:
    failure = internal_failure()
    assert (failure.code, failure.status, failure.sender_fault) == ("InternalFailure", 500, False)
    assert parsed("iam", failure)["Error"]["Type"] == "Receiver"
    missing = not_implemented("iam", "CreateRole")
    assert (missing.code, missing.status) == ("NotImplemented", 501)
    assert parsed("ecs", missing)["Error"]["Code"] == "NotImplemented"
    assert unknown_operation("json", "X").code == "UnknownOperationException"
    unknown = unknown_operation("query", "Nope", "2010-05-08")
    assert (unknown.code, unknown.message) == ("InvalidAction", "Could not find operation Nope for version 2010-05-08")
    assert unknown_operation("query", "Nope").message.endswith("for version NO_VERSION_SPECIFIED")
    assert validation_error("json", "m").code == "ValidationException"
    assert validation_error("query", "m").code == "ValidationError"
    assert malformed_input("json", "m").code == "SerializationException"
    assert repr(ServiceError("A", "b", 409)) == "ServiceError('A', 'b', 409)"


def test_error_without_a_known_service_is_query_xml() -> None:
    body = protocols.error_body(ServiceError("MissingAuthenticationToken", "Request is missing <token>", 403),
                                REQUEST_ID)
    result = create_parser("query").parse({"body": body, "headers": {}, "status_code": 403}, None)
    assert result["Error"]["Code"] == "MissingAuthenticationToken"
    assert result["Error"]["Message"] == "Request is missing <token>"


# -- values that do not parse --------------------------------------------------------------------------------------

def _query_error(service: str, operation: str, form: dict[str, str]) -> ServiceError:
    spec = SERVICES[service]
    parser = QueryInputParser(ec2=spec.protocol == "ec2")
    with pytest.raises(ServiceError) as caught:
        parser.parse(spec.model.operation_model(operation).input_shape, form)
    return caught.value


def test_query_values_of_the_wrong_type() -> None:
    error = _query_error("iam", "CreateRole", {"RoleName": "r", "MaxSessionDuration": "1h"})
    assert (error.code, error.status) == ("ValidationError", 400)
    assert error.message == (
        "1 validation error detected: Value '1h' at 'maxSessionDuration' failed to satisfy constraint: "
        "Member must be a valid integer"
    )
    nested = _query_error("elbv2", "CreateRule", {"Actions.member.1.Type": "forward", "Actions.member.1.Order": "x"})
    assert "Value 'x' at 'actions.1.member.order'" in nested.message
    for text in ("5_000", " 5", "\u0665", "1.0", ""):  # U+0665 is ARABIC-INDIC DIGIT FIVE
        assert _query_error("iam", "ListRoles", {"MaxItems": text}).code == "ValidationError"


def test_ec2_values_of_the_wrong_type_name_the_parameter() -> None:
    error = _query_error("ec2", "RunInstances", {"MinCount": "one", "MaxCount": "1"})
    assert (error.code, error.message) == ("InvalidParameterValue",
                                           "Value (one) for parameter MinCount is invalid. Expected: 'integer'.")
    nested = _query_error("ec2", "RunInstances", {"BlockDeviceMapping.1.Ebs.VolumeSize": "big"})
    assert "for parameter BlockDeviceMapping.1.Ebs.VolumeSize is invalid" in nested.message
    assert _query_error("ec2", "DescribeVpcs", {"DryRun": "yes"}).message.endswith("Expected: 'boolean'.")


def _json_error(body: bytes, operation: str = "CreateService") -> ServiceError:
    shape = SERVICES["ecs"].model.operation_model(operation).input_shape
    with pytest.raises(ServiceError) as caught:
        JsonInputParser().parse(shape, body)
    return caught.value


def test_json_values_of_the_wrong_type() -> None:
    error = _json_error(b'{"serviceName": "s", "desiredCount": "2"}')
    assert (error.code, error.message) == ("SerializationException",
                                           "Unexpected value type in payload at 'desiredCount' (expected integer)")
    nested = _json_error(b'{"serviceName": "s", "loadBalancers": [{}, {"containerPort": "80"}]}')
    assert nested.message == "Unexpected value type in payload at 'loadBalancers.2.containerPort' (expected integer)"
    assert "'tags.1'" in _json_error(b'{"serviceName": "s", "tags": [null]}').message
    assert _json_error(b'{"serviceName": 1}').message.endswith("(expected string)")
    assert _json_error(b'{"serviceName": "s", "enableECSManagedTags": "true"}').code == "SerializationException"
    assert _json_error(b'{"serviceName": "s", "desiredCount": true}').code == "SerializationException"
    assert _json_error(b'{"serviceName": "s", "loadBalancers": {}}').code == "SerializationException"


def test_json_bodies_that_are_not_objects() -> None:
    for body in (b"[1]", b"not json", b'"s"', b"\xff\xfe"):
        error = _json_error(body)
        assert (error.code, error.message) == ("SerializationException",
                                               "Start of structure or map found where not expected.")
    shape = SERVICES["ecs"].model.operation_model("ListClusters").input_shape
    assert JsonInputParser().parse(shape, b"") == {}
    assert JsonInputParser().parse(shape, b'{"unknown": 1, "maxResults": null}') == {}


def test_json_timestamps_and_blobs() -> None:
    shape = SERVICES["cloudtrail"].model.operation_model("LookupEvents").input_shape
    parser = JsonInputParser()
    for value in ("1709294400", 1709294400, 1709294400.0, "2024-03-01T12:00:00Z", "2024-03-01T13:00:00+01:00"):
        parsed = parser.parse(shape, json.dumps({"StartTime": value}).encode())
        assert parsed == {"StartTime": datetime(2024, 3, 1, 12, tzinfo=UTC)}
    for bad in (True, "yesterday", "1e400", [1]):
        with pytest.raises(ServiceError) as caught:
            parser.parse(shape, json.dumps({"StartTime": bad}).encode())
        assert caught.value.message == "Unexpected value type in payload at 'StartTime' (expected timestamp)"


def test_query_timestamps_booleans_and_floats() -> None:
    shape = SERVICES["ec2"].model.operation_model("DescribeSpotPriceHistory").input_shape
    parser = QueryInputParser(ec2=True)
    for text in ("2024-03-01T12:00:00Z", "2024-03-01T12:00:00.000000Z", "2024-03-01T14:00:00+02:00", "1709294400"):
        assert parser.parse(shape, {"StartTime": text}) == {"StartTime": datetime(2024, 3, 1, 12, tzinfo=UTC)}
    assert parser.parse(shape, {"DryRun": "TRUE"}) == {"DryRun": True}
    fleet = SERVICES["ec2"].model.operation_model("CreateCapacityReservationFleet").input_shape
    key = "InstanceRequirements.NetworkBandwidthGbps.Min"
    for text, value in (("1.5", 1.5), ("-2e3", -2000.0), ("Infinity", float("inf")), ("7", 7.0)):
        assert parser.parse(fleet, {key: text}) == {"InstanceRequirements": {"NetworkBandwidthGbps": {"Min": value}}}
    for text in ("1,5", "inf", "0x10", "nan"):
        with pytest.raises(ServiceError, match="Expected: 'double'"):
            parser.parse(fleet, {key: text})
    elbv2 = SERVICES["elbv2"].model.operation_model("CreateLoadBalancer").input_shape
    assert QueryInputParser().parse(elbv2, {"Name": "n", "Unknown": "x", "Action": "A"}) == {"Name": "n"}
