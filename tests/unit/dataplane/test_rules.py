"""Rule evaluation: every condition type in both stored forms, rule order, terminal actions, redirect and
fixed-response answers (docs/dataplane.md, "Rules" and "Fixed-response and redirect")."""

from __future__ import annotations

import fnmatch
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout.dataplane.model import Request, RouteRule
from turnout.dataplane.rules import (
    condition_matches,
    fixed_response,
    host_without_port,
    redirect,
    rule_matches,
    select_rule,
    terminal_action,
)


def req(method: str = "GET", host: str = "www.example.com", path: str = "/", query: tuple[tuple[str, str], ...] = (),
        headers: tuple[tuple[str, str], ...] = (), source_ip: str = "10.0.0.5", protocol: str = "HTTP",
        port: int = 80) -> Request:
    return Request(method=method, host=host, path=path, query=query, headers=headers, source_ip=source_ip,
                   protocol=protocol, port=port)


def host(*values: str, legacy: bool = False) -> dict[str, Any]:
    if legacy:
        return {"Field": "host-header", "Values": list(values)}
    return {"Field": "host-header", "HostHeaderConfig": {"Values": list(values)}}


def path(*values: str, legacy: bool = False) -> dict[str, Any]:
    if legacy:
        return {"Field": "path-pattern", "Values": list(values)}
    return {"Field": "path-pattern", "PathPatternConfig": {"Values": list(values)}}


def header(name: str, *values: str) -> dict[str, Any]:
    return {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": name, "Values": list(values)}}


def method(*values: str) -> dict[str, Any]:
    return {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": list(values)}}


def query(*pairs: tuple[str | None, str]) -> dict[str, Any]:
    items = [{"Value": v} if k is None else {"Key": k, "Value": v} for k, v in pairs]
    return {"Field": "query-string", "QueryStringConfig": {"Values": items}}


def source(*cidrs: str) -> dict[str, Any]:
    return {"Field": "source-ip", "SourceIpConfig": {"Values": list(cidrs)}}


# -- host-header -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("legacy", [False, True])
def test_host_header_is_case_insensitive_and_ignores_the_port(legacy: bool) -> None:
    condition = host("www.example.com", legacy=legacy)
    assert condition_matches(condition, req(host="WWW.Example.COM"))
    assert condition_matches(condition, req(host="www.example.com:8080"))
    assert not condition_matches(condition, req(host="api.example.com"))
    assert not condition_matches(condition, req(host="www.example.com.evil"))


def test_host_header_wildcards() -> None:
    star = host("*.example.com")
    assert condition_matches(star, req(host="test.example.com"))
    assert condition_matches(star, req(host="a.b.example.com"))
    assert not condition_matches(star, req(host="example.com"))  # the docs' own example
    one = host("api-?.example.com")
    assert condition_matches(one, req(host="api-1.example.com"))
    assert not condition_matches(one, req(host="api-12.example.com"))
    assert not condition_matches(one, req(host="api-.example.com"))


def test_host_header_several_values_are_or_and_both_forms_together() -> None:
    both = {"Field": "host-header", "Values": ["a.example.com", "b.example.com"],
            "HostHeaderConfig": {"Values": ["a.example.com", "b.example.com"]}}
    assert condition_matches(both, req(host="a.example.com"))
    assert condition_matches(both, req(host="b.example.com"))
    assert not condition_matches(both, req(host="c.example.com"))


def test_host_without_port() -> None:
    assert host_without_port("example.com:8080") == "example.com"
    assert host_without_port("example.com") == "example.com"
    assert host_without_port("[::1]:8080") == "[::1]"
    assert host_without_port("[::1]") == "[::1]"


# -- path-pattern ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("legacy", [False, True])
def test_path_pattern_is_case_sensitive_with_wildcards(legacy: bool) -> None:
    condition = path("/img/*", legacy=legacy)
    assert condition_matches(condition, req(path="/img/picture.jpg"))
    assert condition_matches(condition, req(path="/img/"))
    assert not condition_matches(condition, req(path="/IMG/picture.jpg"))
    assert not condition_matches(condition, req(path="/img"))
    assert condition_matches(path("/v?/items"), req(path="/v2/items"))
    assert not condition_matches(path("/v?/items"), req(path="/v10/items"))


def test_path_pattern_ignores_the_query_string() -> None:
    condition = path("/search")
    assert condition_matches(condition, req(path="/search", query=(("q", "x"),)))
    assert not condition_matches(path("*q=x*"), req(path="/search", query=(("q", "x"),)))


def test_path_pattern_exact_without_wildcard_and_several_values() -> None:
    condition = path("/a", "/b/*")
    assert condition_matches(condition, req(path="/a"))
    assert not condition_matches(condition, req(path="/a/"))
    assert condition_matches(condition, req(path="/b/c/d"))


def test_a_long_path_with_many_wildcards_is_answered() -> None:
    # A pattern that makes a backtracking regular expression explode; the answer is still exact.
    condition = path("*a*a*a*a*b")
    assert not condition_matches(condition, req(path="/" + "a" * 5000))
    assert condition_matches(condition, req(path="/" + "a" * 5000 + "b"))


@given(st.text(alphabet="ab/", max_size=12), st.text(alphabet="ab/*?", max_size=6))
def test_wildcards_agree_with_fnmatch(text: str, pattern: str) -> None:
    # fnmatch gives * and ? the same meaning (no [..] in this alphabet): an independent oracle.
    expected = re.fullmatch(fnmatch.translate(pattern), text) is not None
    assert condition_matches(path(pattern), req(path=text)) == expected


# -- http-header -----------------------------------------------------------------------------------------------


def test_http_header_name_and_value_are_case_insensitive_with_wildcards() -> None:
    condition = header("User-Agent", "*Mobile*")
    assert condition_matches(condition, req(headers=(("user-agent", "Foo MOBILE Safari"),)))
    assert not condition_matches(condition, req(headers=(("user-agent", "Desktop"),)))
    assert not condition_matches(condition, req())  # no such header
    assert not condition_matches(header("User-*", "*"), req(headers=(("user-agent", "x"),)))  # no name wildcards


def test_http_header_any_of_several_values_and_any_header_occurrence() -> None:
    condition = header("X-Env", "blue", "green")
    assert condition_matches(condition, req(headers=(("X-Env", "red"), ("x-env", "GREEN"))))
    assert not condition_matches(condition, req(headers=(("X-Env", "red"),)))


# -- http-request-method ---------------------------------------------------------------------------------------


def test_method_is_exact_and_case_sensitive() -> None:
    condition = method("GET", "HEAD")
    assert condition_matches(condition, req(method="GET"))
    assert condition_matches(condition, req(method="HEAD"))
    assert not condition_matches(condition, req(method="get"))
    assert not condition_matches(condition, req(method="POST"))
    assert not condition_matches(method("G*"), req(method="GET"))
    assert condition_matches(method("CUSTOM_METHOD"), req(method="CUSTOM_METHOD"))


# -- query-string ----------------------------------------------------------------------------------------------


def test_query_string_key_value_and_value_only() -> None:
    keyed = query(("version", "v1"))
    assert condition_matches(keyed, req(query=(("version", "v1"),)))
    assert condition_matches(keyed, req(query=(("VERSION", "V1"),)))  # not case-sensitive
    assert not condition_matches(keyed, req(query=(("version", "v2"),)))
    assert not condition_matches(keyed, req(query=(("other", "v1"),)))
    assert not condition_matches(keyed, req())
    any_key = query((None, "*example*"))
    assert condition_matches(any_key, req(query=(("a", "1"), ("ref", "an-Example-here"))))
    assert not condition_matches(any_key, req(query=(("ref", "nothing"),)))


def test_query_string_pairs_are_or_and_keys_take_wildcards() -> None:
    condition = query(("lang", "en"), ("l*", "fr"))
    assert condition_matches(condition, req(query=(("lang", "en"),)))
    assert condition_matches(condition, req(query=(("locale", "fr"),)))
    assert not condition_matches(condition, req(query=(("lang", "de"),)))


# -- source-ip -------------------------------------------------------------------------------------------------


def test_source_ip_cidrs_ipv4_and_ipv6() -> None:
    condition = source("192.0.2.0/24", "2001:db8::/32")
    assert condition_matches(condition, req(source_ip="192.0.2.77"))
    assert condition_matches(condition, req(source_ip="2001:db8::1"))
    assert condition_matches(condition, req(source_ip="::ffff:192.0.2.9"))  # IPv4-mapped
    assert not condition_matches(condition, req(source_ip="198.51.100.1"))
    assert not condition_matches(condition, req(source_ip="2001:db9::1"))


def test_source_ip_unparsable_never_matches() -> None:
    assert not condition_matches(source("0.0.0.0/0"), req(source_ip="not-an-ip"))
    assert not condition_matches(source("0.0.0.0/0"), req(source_ip=""))
    assert condition_matches(source("0.0.0.0/0"), req(source_ip="203.0.113.1"))
    assert not condition_matches(source("garbage"), req(source_ip="203.0.113.1"))


def test_legacy_values_form_for_the_other_types() -> None:
    assert condition_matches({"Field": "http-request-method", "Values": ["PUT"]}, req(method="PUT"))
    assert not condition_matches({"Field": "http-request-method", "Values": ["PUT"]}, req(method="GET"))
    assert condition_matches({"Field": "source-ip", "Values": ["10.0.0.0/8"]}, req(source_ip="10.9.9.9"))
    assert not condition_matches({"Field": "source-ip", "Values": ["10.0.0.0/8"]}, req(source_ip="11.0.0.1"))
    legacy_header = {"Field": "http-header", "Values": ["on"], "HttpHeaderConfig": {"HttpHeaderName": "X-Beta"}}
    assert condition_matches(legacy_header, req(headers=(("x-beta", "ON"),)))
    assert not condition_matches(legacy_header, req(headers=(("x-beta", "off"),)))
    assert condition_matches({"Field": "query-string", "Values": ["v?"]}, req(query=(("k", "V2"),)))
    assert not condition_matches({"Field": "query-string", "Values": ["v?"]}, req(query=(("k", "v22"),)))


# -- unknown and malformed -------------------------------------------------------------------------------------


def test_unknown_field_and_malformed_conditions_never_match() -> None:
    assert not condition_matches({"Field": "cookie", "Values": ["*"]}, req())
    assert not condition_matches({"Values": ["*"]}, req())
    assert not condition_matches({"Field": "http-header", "HttpHeaderConfig": {"Values": ["*"]}}, req())
    assert not condition_matches({"Field": "host-header", "HostHeaderConfig": "oops"}, req())
    assert not condition_matches(None, req())  # type: ignore[arg-type]
    assert not condition_matches({"Field": "query-string", "QueryStringConfig": {"Values": [1, {"Key": "a"}]}},
                                 req(query=(("a", "b"),)))


def test_regex_values_are_searched_with_the_types_case_rule() -> None:
    assert condition_matches({"Field": "host-header", "HostHeaderConfig": {"RegexValues": [r"^api\d+\."]}},
                             req(host="API7.example.com"))
    condition = {"Field": "path-pattern", "PathPatternConfig": {"RegexValues": [r"^/v[0-9]+/"]}}
    assert condition_matches(condition, req(path="/v12/x"))
    assert not condition_matches({"Field": "path-pattern", "PathPatternConfig": {"RegexValues": ["^/V"]}},
                                 req(path="/v1"))
    assert not condition_matches({"Field": "path-pattern", "PathPatternConfig": {"RegexValues": ["("]}},
                                 req(path="/("))


# -- rules -----------------------------------------------------------------------------------------------------

FORWARD = {"Type": "forward", "TargetGroupArn": "tg"}


def rule(name: str, priority: int | None, *conditions: dict[str, Any]) -> RouteRule:
    return RouteRule(arn=name, priority=priority, conditions=tuple(conditions), actions=(FORWARD,))


def test_every_condition_must_match() -> None:
    both = rule("r", 1, host("*.example.com"), path("/api/*"), method("POST"))
    assert rule_matches(both, req(method="POST", host="x.example.com", path="/api/v1"))
    assert not rule_matches(both, req(method="GET", host="x.example.com", path="/api/v1"))
    assert not rule_matches(both, req(method="POST", host="x.example.org", path="/api/v1"))
    assert not rule_matches(both, req(method="POST", host="x.example.com", path="/web"))
    assert rule_matches(rule("default", None), req())


def test_select_rule_takes_the_first_match_in_order_and_the_default_last() -> None:
    rules = [rule("api", 1, path("/api/*")), rule("any-api", 2, path("/api/*")), rule("img", 5, path("/img/*")),
             rule("default", None)]
    assert select_rule(rules, req(path="/api/x")).arn == "api"  # type: ignore[union-attr]
    assert select_rule(rules, req(path="/img/x")).arn == "img"  # type: ignore[union-attr]
    assert select_rule(rules, req(path="/other")).arn == "default"  # type: ignore[union-attr]
    assert select_rule(rules[:3], req(path="/other")) is None
    assert select_rule([], req()) is None


def test_terminal_action_by_order() -> None:
    fixed = {"Type": "fixed-response", "Order": 2, "FixedResponseConfig": {"StatusCode": "200"}}
    auth = {"Type": "authenticate-oidc", "Order": 1}
    r = RouteRule(arn="r", priority=1, conditions=(), actions=(fixed, auth))
    assert terminal_action(r) == fixed
    assert terminal_action(RouteRule(arn="r", priority=1, conditions=(), actions=(FORWARD,))) == FORWARD
    assert terminal_action(RouteRule(arn="r", priority=1, conditions=(), actions=(auth,))) is None
    assert terminal_action(RouteRule(arn="r", priority=1, conditions=(), actions=())) is None


# -- redirect --------------------------------------------------------------------------------------------------


def redirect_config(**given: str) -> dict[str, str]:
    config = {"Protocol": "#{protocol}", "Port": "#{port}", "Host": "#{host}", "Path": "/#{path}",
              "Query": "#{query}", "StatusCode": "HTTP_301"}
    config.update(given)
    return config


def location(config: dict[str, str], request: Request) -> str:
    answer = redirect(config, request)
    headers = dict(answer.headers)
    return headers["Location"]


def test_http_to_https_redirect_drops_the_default_port() -> None:
    answer = redirect(redirect_config(Protocol="HTTPS", Port="443"), req(host="example.com", path="/a/b",
                                                                           query=(("x", "1"),)))
    assert answer.status == 301
    assert dict(answer.headers)["Location"] == "https://example.com/a/b?x=1"
    assert answer.body == b""


def test_redirect_keeps_a_non_default_port_and_the_request_port() -> None:
    assert location(redirect_config(Protocol="HTTPS", Port="8443"), req(host="example.com")) == \
        "https://example.com:8443/"
    assert location(redirect_config(Host="other.example.com"), req(host="example.com:8080", port=8080)) == \
        "http://other.example.com:8080/"
    assert location(redirect_config(Host="other.example.com"), req(host="example.com", port=80)) == \
        "http://other.example.com/"
    # Only the scheme changes, #{port} keeps the listener's port 80 (AWS: unmodified components keep their values).
    assert location(redirect_config(Protocol="HTTPS"), req(host="example.com", port=80)) == \
        "https://example.com:80/"


def test_redirect_placeholders() -> None:
    request = req(host="shop.example.com:8080", path="/cart/items", query=(("id", "7"), ("q", "a b")), port=8080,
                  protocol="HTTP")
    config = redirect_config(Host="new.#{host}", Path="/v2/#{path}", Port="81",
                             Query="from=#{protocol}-#{port}&#{query}", StatusCode="HTTP_302")
    answer = redirect(config, request)
    assert answer.status == 302
    assert dict(answer.headers)["Location"] == \
        "http://new.shop.example.com:81/v2/cart/items?from=http-8080&id=7&q=a%20b"


def test_redirect_host_placeholder_in_path_and_no_question_mark_without_query() -> None:
    assert location(redirect_config(Path="/sites/#{host}/#{path}"), req(host="a.example.com:80", path="/x")) == \
        "http://a.example.com/sites/a.example.com/x"
    assert location(redirect_config(Path="/new"), req(path="/old")) == "http://www.example.com/new"
    assert location(redirect_config(Path="/new", Query=""), req(path="/old", query=(("a", "1"),))) == \
        "http://www.example.com/new"
    assert location(redirect_config(Path="/new", Query="fixed=1"), req(path="/old")) == \
        "http://www.example.com/new?fixed=1"


def test_redirect_https_listener_protocol_is_lower_case_and_443_dropped() -> None:
    request = req(host="example.com", path="/p", protocol="HTTPS", port=443)
    assert location(redirect_config(Host="b.example.com"), request) == "https://b.example.com/p"


def test_redirect_reencodes_the_decoded_path_and_never_emits_control_characters() -> None:
    value = location(redirect_config(Host="x.example.com"), req(path="/a b/\u00e9\r\nSet-Cookie: x"))
    assert value == "http://x.example.com/a%20b/%C3%A9%0D%0ASet-Cookie:%20x"
    assert all(0x21 <= ord(ch) <= 0x7E for ch in value)


@given(st.text(max_size=30), st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5)), max_size=3))
def test_redirect_location_is_always_visible_ascii(path_text: str, pairs: list[tuple[str, str]]) -> None:
    value = location(redirect_config(Protocol="HTTPS", Port="443"), req(path="/" + path_text, query=tuple(pairs)))
    assert all(0x21 <= ord(ch) <= 0x7E for ch in value)
    assert urlsplit(value).scheme == "https"


# -- fixed-response --------------------------------------------------------------------------------------------


def test_fixed_response_with_body() -> None:
    answer = fixed_response({"StatusCode": "503", "ContentType": "application/json", "MessageBody": '{"é": 1}'})
    assert answer.status == 503
    assert answer.headers == (("Content-Type", "application/json"),)
    assert answer.body == '{"é": 1}'.encode()


def test_fixed_response_without_body() -> None:
    answer = fixed_response({"StatusCode": "204", "ContentType": "text/plain"})
    assert (answer.status, answer.body) == (204, b"")
    assert answer.headers == (("Content-Type", "text/plain"),)
    assert fixed_response({"StatusCode": "404"}).headers == ()


def test_fixed_response_bad_status_answers_500() -> None:
    assert fixed_response({"StatusCode": "301"}).status == 500
    assert fixed_response({"StatusCode": "abc"}).status == 500
    assert fixed_response({}).status == 500
