"""Per-protocol parsing of inputs and writing of outputs and errors, for the request's service."""

from __future__ import annotations

from functools import cache

from ..core.context import RequestContext
from ..wire.errors import ServiceError
from ..wire.jsonproto import JsonInputParser, JsonSerializer
from ..wire.models import SERVICES, ServiceSpec
from ..wire.query import QueryInputParser, XmlSerializer
from ..wire.restxml import RestXmlParser
from ..wire.restxml_out import RestXmlSerializer

_QUERY = QueryInputParser(ec2=False)
_EC2 = QueryInputParser(ec2=True)
_JSON = JsonInputParser()
_JSON_OUT = JsonSerializer()
_REST_XML = RestXmlParser()
_REST_XML_OUT = RestXmlSerializer()


def parse_input(ctx: RequestContext) -> None:
    assert ctx.service is not None and ctx.operation is not None and ctx.http is not None
    shape = ctx.operation.input_shape
    protocol = ctx.service.protocol
    if protocol == "json":
        ctx.params = _JSON.parse(shape, ctx.http.body)
    elif protocol == "rest-xml":
        ctx.params = _REST_XML.parse(ctx.operation, ctx.labels, ctx.query_pairs, ctx.http.headers, ctx.http.body)
    elif protocol == "ec2":
        ctx.params = _EC2.parse(shape, ctx.form)
    else:
        ctx.params = _QUERY.parse(shape, ctx.form)


@cache
def _xml(spec_name: str) -> XmlSerializer:
    spec: ServiceSpec = SERVICES[spec_name]
    namespace = spec.model.metadata.get("xmlNamespace") or f"http://{spec.name}.amazonaws.com/doc/{spec.api_version}/"
    if not namespace.endswith("/"):
        namespace += "/"  # EC2's model omits it; EC2 answers xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"
    return XmlSerializer(
        namespace,
        ec2=spec.protocol == "ec2",
        url_encoded_shapes=spec.url_encoded_shapes,
        timestamp_millis=spec.timestamp_millis,
    )


_FALLBACK_XML = XmlSerializer("https://iam.amazonaws.com/doc/2010-05-08/")


def write(ctx: RequestContext) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body of the response to ``ctx``."""
    spec = ctx.service
    request_id = ctx.request_id
    if spec is not None and spec.protocol == "rest-xml":
        head = ctx.http is not None and ctx.http.method == "HEAD"
        if ctx.error is not None:
            status, headers, body = write_error(spec, ctx.error, request_id, head=head)
            region = ctx.annotations.get("x-amz-bucket-region")  # HeadBucket's region, even on a denial
            if isinstance(region, str) and not any(name == b"x-amz-bucket-region" for name, _ in headers):
                headers.append((b"x-amz-bucket-region", region.encode()))
            return status, headers, body
        assert ctx.operation is not None
        status, headers, body = _REST_XML_OUT.response(ctx.operation, ctx.result, request_id)
        return (ctx.status if status == 200 else status), headers, body
    if ctx.error is not None:
        _, headers, body = write_error(spec, ctx.error, request_id)
        return ctx.status, headers, body
    assert ctx.operation is not None
    if spec is not None and spec.protocol == "json":
        content_type = b"application/x-amz-json-1.1"
        body = _JSON_OUT.response(ctx.operation, ctx.result, request_id)
    else:
        content_type = b"text/xml"
        serializer = _xml(spec.name) if spec is not None else _FALLBACK_XML
        body = serializer.response(ctx.operation, ctx.result, request_id)
    return ctx.status, [(b"content-type", content_type), (b"x-amzn-requestid", request_id.encode())], body


def write_error(
    spec: ServiceSpec | None, error: ServiceError, request_id: str, *, head: bool = False,
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body of ``error`` in the protocol of ``spec`` (query XML when the service is unknown).

    Also used before a request reaches the gateway (the server's size limits and timeouts), where only the
    service its headers name is known.
    """
    if spec is not None and spec.protocol == "rest-xml":
        return _REST_XML_OUT.error(error, request_id, head=head)
    if spec is not None and spec.protocol == "json":
        body = _JSON_OUT.error(error, request_id)
        return error.status, [(b"content-type", b"application/x-amz-json-1.1"),
                              (b"x-amzn-requestid", request_id.encode()),
                              (b"x-amzn-errortype", error.code.encode())], body
    serializer = _xml(spec.name) if spec is not None else _FALLBACK_XML
    body = serializer.error(error, request_id)
    return error.status, [(b"content-type", b"text/xml"), (b"x-amzn-requestid", request_id.encode())], body


def error_body(error: ServiceError, request_id: str) -> bytes:
    return _FALLBACK_XML.error(error, request_id)
