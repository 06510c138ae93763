"""Listener rules as an Application Load Balancer evaluates them: which rule a request matches, which of its actions
ends it, and the answers of the two actions that need no target (redirect, fixed-response).

Pure functions of the stored rule (botocore's shapes, see ``model.py``) and the :class:`~.model.Request`: no
sockets, no state. Facts: ``docs/dataplane.md``, sections "Rules" and "Fixed-response and redirect".

Matching, per condition type (docs/dataplane.md, "Rules"):

* ``host-header``: the Host header without its port, not case-sensitive, ``*``/``?`` wildcards;
* ``path-pattern``: the path only (never the query string), case-sensitive, wildcards;
* ``http-header``: the named header (name not case-sensitive, no wildcards in it); a value matches when any of the
  request's values of that header matches, not case-sensitive, wildcards;
* ``query-string``: any of the request's pairs; ``Key`` (when given) and ``Value`` both match, not case-sensitive,
  wildcards;
* ``http-request-method``: exact and case-sensitive, no wildcards;
* ``source-ip``: the TCP peer's address inside any of the CIDRs.

A condition is met when any of its values matches; a rule when all of its conditions are (none: always). Conditions
keep botocore's two forms: the legacy ``Values`` and the ``*Config`` member; when both are present they carry the
same values (``services/elbv2/actions.py`` stores both for host-header and path-pattern), so their union is used.

Turnout's choices where AWS is silent:

* ``RegexValues`` (host-header, path-pattern, http-header) match when the expression is found anywhere in the
  value (Python's ``re.search``; anchor it with ``^...$`` for a whole match), with the same case rule as the
  type's wildcard values. An expression Python cannot compile never matches.
* ``source-ip``: an IPv4-mapped IPv6 peer (``::ffff:192.0.2.1``, what a dual-stack socket reports) is compared as
  the IPv4 address it carries.
* The legacy ``Values`` form is read for every type (the API accepts it only for host-header and path-pattern):
  for http-header they are the values of the header ``HttpHeaderConfig`` names; for query-string, value-only
  patterns (any key).
* A condition with an unknown ``Field``, or a value of the wrong type, never matches.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from .model import Request, Respond, RouteRule

TERMINAL_TYPES = ("forward", "redirect", "fixed-response")

_CONFIG_OF = {
    "host-header": "HostHeaderConfig",
    "path-pattern": "PathPatternConfig",
    "http-header": "HttpHeaderConfig",
    "http-request-method": "HttpRequestMethodConfig",
    "query-string": "QueryStringConfig",
    "source-ip": "SourceIpConfig",
}


# -- wildcards and regular expressions -------------------------------------------------------------------------


def _glob(pattern: str, text: str) -> bool:
    """Whether ``text`` is all matched by ``pattern``: ``*`` = any run of characters (possibly empty), ``?`` = exactly
    one, everything else literal. Backtracks only to the last ``*`` seen, so the cost stays within
    ``len(pattern) * len(text)`` whatever the pattern (a regular expression's could explode on a long path)."""
    p = t = 0
    star, mark = -1, 0
    while t < len(text):
        if p < len(pattern) and pattern[p] == "*":
            star, mark = p, t
            p += 1
        elif p < len(pattern) and (pattern[p] == "?" or pattern[p] == text[t]):
            p += 1
            t += 1
        elif star >= 0:
            p, mark = star + 1, mark + 1
            t = mark
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


@functools.lru_cache(maxsize=1024)
def _regex(expression: str, ignore_case: bool) -> re.Pattern[str] | None:
    try:
        return re.compile(expression, re.IGNORECASE if ignore_case else 0)
    except (re.error, RecursionError, OverflowError):
        return None


def _wild_match(patterns: Iterable[str], value: str, *, ignore_case: bool) -> bool:
    if ignore_case:
        value = value.lower()
    return any(_glob(pattern.lower() if ignore_case else pattern, value) for pattern in patterns)


def _regex_match(expressions: Iterable[str], value: str, *, ignore_case: bool) -> bool:
    for expression in expressions:
        compiled = _regex(expression, ignore_case)
        if compiled is not None and compiled.search(value) is not None:
            return True
    return False


# -- the condition's values, from either form ------------------------------------------------------------------


def _strings(raw: Any) -> list[str]:
    """A list of strings from a stored member (anything else: nothing)."""
    if isinstance(raw, str):
        return [raw]
    if not isinstance(raw, list | tuple):
        return []
    return [item for item in raw if isinstance(item, str)]


def _config(condition: Mapping[str, Any], field: str) -> Mapping[str, Any]:
    config = condition.get(_CONFIG_OF[field])
    return config if isinstance(config, Mapping) else {}


def _values(condition: Mapping[str, Any], field: str) -> list[str]:
    """The legacy ``Values`` and the ``*Config`` ``Values``, in order, without repeats."""
    found = _strings(condition.get("Values")) + _strings(_config(condition, field).get("Values"))
    return list(dict.fromkeys(found))


def host_without_port(host: str) -> str:
    """The Host header's name part: ``example.com:8080`` -> ``example.com``; ``[::1]:80`` -> ``[::1]``."""
    if host.startswith("["):
        end = host.find("]")
        return host if end < 0 else host[: end + 1]
    name, sep, port = host.rpartition(":")
    if sep and name and port.isdigit():
        return name
    return host


# -- one condition per type ------------------------------------------------------------------------------------


def _host_header(condition: Mapping[str, Any], request: Request) -> bool:
    host = host_without_port(request.host)
    regexes = _strings(_config(condition, "host-header").get("RegexValues"))
    return _wild_match(_values(condition, "host-header"), host, ignore_case=True) or \
        _regex_match(regexes, host, ignore_case=True)


def _path_pattern(condition: Mapping[str, Any], request: Request) -> bool:
    regexes = _strings(_config(condition, "path-pattern").get("RegexValues"))
    return _wild_match(_values(condition, "path-pattern"), request.path, ignore_case=False) or \
        _regex_match(regexes, request.path, ignore_case=False)


def _http_header(condition: Mapping[str, Any], request: Request) -> bool:
    config = _config(condition, "http-header")
    name = config.get("HttpHeaderName")
    if not isinstance(name, str) or not name:
        return False
    patterns = _values(condition, "http-header")
    regexes = _strings(config.get("RegexValues"))
    return any(_wild_match(patterns, value, ignore_case=True) or _regex_match(regexes, value, ignore_case=True)
               for value in request.header(name))


def _http_request_method(condition: Mapping[str, Any], request: Request) -> bool:
    return request.method in _values(condition, "http-request-method")


def _query_pairs(condition: Mapping[str, Any]) -> list[tuple[str | None, str]]:
    """(key pattern or None: any key, value pattern) of the Config form, then the legacy ``Values`` strings as
    value-only patterns."""
    raw = _config(condition, "query-string").get("Values")
    pairs: list[tuple[str | None, str]] = []
    for item in raw if isinstance(raw, list | tuple) else ():
        if not isinstance(item, Mapping) or not isinstance(item.get("Value"), str):
            continue
        key = item.get("Key")
        pairs.append((key if isinstance(key, str) and key else None, item["Value"]))
    pairs.extend((None, value) for value in _strings(condition.get("Values")))
    return pairs


def _query_string(condition: Mapping[str, Any], request: Request) -> bool:
    for key_pattern, value_pattern in _query_pairs(condition):
        for key, value in request.query:
            if key_pattern is not None and not _wild_match((key_pattern,), key, ignore_case=True):
                continue
            if _wild_match((value_pattern,), value, ignore_case=True):
                return True
    return False


@functools.lru_cache(maxsize=1024)
def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None


def _peer(source_ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(source_ip.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _source_ip(condition: Mapping[str, Any], request: Request) -> bool:
    peer = _peer(request.source_ip)
    if peer is None:
        return False
    for cidr in _values(condition, "source-ip"):
        network = _network(cidr)
        if network is not None and network.version == peer.version and peer in network:
            return True
    return False


_MATCHERS = {
    "host-header": _host_header,
    "path-pattern": _path_pattern,
    "http-header": _http_header,
    "http-request-method": _http_request_method,
    "query-string": _query_string,
    "source-ip": _source_ip,
}


def condition_matches(condition: Mapping[str, Any], request: Request) -> bool:
    """Whether ``request`` meets one stored condition (any of its values matches). Unknown ``Field``: False."""
    if not isinstance(condition, Mapping):
        return False
    field = condition.get("Field")
    matcher = _MATCHERS.get(field) if isinstance(field, str) else None
    return matcher is not None and matcher(condition, request)


def rule_matches(rule: RouteRule, request: Request) -> bool:
    """Every condition is met (a rule without conditions, the default rule, always matches)."""
    return all(condition_matches(condition, request) for condition in rule.conditions)


def select_rule(rules: Sequence[RouteRule], request: Request) -> RouteRule | None:
    """The first rule that matches, in the given order (a listener's rules are kept in priority order, the default
    rule last: docs/dataplane.md, "Rules"); None when none does."""
    for rule in rules:
        if rule_matches(rule, request):
            return rule
    return None


def _order(action: Mapping[str, Any]) -> int:
    order = action.get("Order")
    return order if isinstance(order, int) and not isinstance(order, bool) else 0


def terminal_action(rule: RouteRule) -> Mapping[str, Any] | None:
    """The action that ends the rule: the first ``forward``, ``redirect`` or ``fixed-response`` by ``Order`` (lowest
    first; an action without ``Order`` counts as 0). Each rule has exactly one, last (docs/dataplane.md, "Rules");
    None when a stored rule somehow has none."""
    actions = sorted((a for a in rule.actions if isinstance(a, Mapping)), key=_order)
    for action in actions:
        if action.get("Type") in TERMINAL_TYPES:
            return action
    return None


# -- redirect --------------------------------------------------------------------------------------------------

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Which placeholders each URI component may hold (docs/dataplane.md, "Fixed-response and redirect").
_ALLOWED = {
    "Protocol": ("protocol",),
    "Host": ("host",),
    "Port": ("port",),
    "Path": ("host", "port", "path"),
    "Query": ("protocol", "host", "port", "path", "query"),
}
_DEFAULTS = {"Protocol": "#{protocol}", "Host": "#{host}", "Port": "#{port}", "Path": "/#{path}",
             "Query": "#{query}"}
_PLACEHOLDER = re.compile(r"#\{(protocol|host|port|path|query)\}")
# Characters kept as they are when a request's path or query goes into a Location (the rest is percent-encoded).
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_QUERY_SAFE = ":@!$'()*+,;/?-._~"


def _visible(text: str) -> str:
    """Text safe in a header: any character outside visible ASCII is percent-encoded (never a CR/LF)."""
    return "".join(ch if 0x21 <= ord(ch) <= 0x7E else quote(ch, safe="") for ch in text)


def _query_text(request: Request) -> str:
    return "&".join(f"{quote(key, safe=_QUERY_SAFE)}={quote(value, safe=_QUERY_SAFE)}" if value
                    else quote(key, safe=_QUERY_SAFE) for key, value in request.query)


def _fill(template: str, component: str, values: Mapping[str, str]) -> str:
    allowed = _ALLOWED[component]

    def replace(found: re.Match[str]) -> str:
        name = found.group(1)
        return values[name] if name in allowed else found.group(0)

    return _PLACEHOLDER.sub(replace, template)


def _template(config: Mapping[str, Any], component: str) -> str:
    given = config.get(component)
    if given is None:
        return _DEFAULTS[component]
    return str(given)


def _status(raw: Any, allowed: tuple[int, ...]) -> int | None:
    text = str(raw or "")
    digits = text.removeprefix("HTTP_")
    if digits.isdigit() and int(digits) in allowed:
        return int(digits)
    return None


def redirect(config: Mapping[str, Any], request: Request) -> Respond:
    """The answer of a ``redirect`` action: ``StatusCode`` ``HTTP_301`` or ``HTTP_302`` with a ``Location`` built from
    the five components, each with its ``#{...}`` placeholders filled from the request (docs/dataplane.md,
    "Fixed-response and redirect"):

    * ``#{protocol}``: the listener's protocol; the Location's scheme is lower case (``https://``);
    * ``#{host}``: the Host header without its port;
    * ``#{port}``: the listener's own port; the Location leaves the port out when it is the scheme's default (80 for
      http, 443 for https);
    * ``#{path}``: the request's path without its leading ``/`` (so the default ``/#{path}`` is the path as is);
    * ``#{query}``: the request's query string without its ``?``; an empty query leaves the ``?`` out.

    Turnout's choices: a missing component keeps the request's value (its placeholder); the request's path and
    query are percent-encoded again for the Location (the request holds them decoded); any other non-visible
    character is percent-encoded so the header stays valid; a ``StatusCode`` other than 301/302 answers 302.
    """
    scheme = (request.protocol or "HTTP").lower()
    values = {
        "protocol": scheme,
        "host": host_without_port(request.host),
        "port": str(request.port),
        "path": quote(request.path.removeprefix("/"), safe=_PATH_SAFE),
        "query": _query_text(request),
    }
    protocol = _fill(_template(config, "Protocol"), "Protocol", values).lower()
    host = _fill(_template(config, "Host"), "Host", values)
    port = _fill(_template(config, "Port"), "Port", values)
    path = _fill(_template(config, "Path"), "Path", values)
    query = _fill(_template(config, "Query"), "Query", values)
    if not path.startswith("/"):
        path = "/" + path
    authority = host
    if not (port.isdigit() and _DEFAULT_PORTS.get(protocol) == int(port)) and port:
        authority = f"{host}:{port}"
    location = f"{protocol}://{authority}{path}" + (f"?{query}" if query else "")
    status = _status(config.get("StatusCode"), (301, 302)) or 302
    return Respond(status=status, headers=(("Location", _visible(location)),))


# -- fixed-response --------------------------------------------------------------------------------------------


def fixed_response(config: Mapping[str, Any]) -> Respond:
    """The answer of a ``fixed-response`` action: ``StatusCode`` (2XX, 4XX or 5XX), ``ContentType`` and the optional
    ``MessageBody`` as UTF-8 (docs/dataplane.md, "Fixed-response and redirect").

    Turnout's choices: without ``ContentType`` the answer has no Content-Type header; a status outside 2XX/4XX/5XX
    (the API refuses one) answers 500 with no body.
    """
    raw = str(config.get("StatusCode") or "")
    if not (len(raw) == 3 and raw.isdigit() and raw[0] in "245"):
        return Respond(status=500)
    headers: tuple[tuple[str, str], ...] = ()
    content_type = config.get("ContentType")
    if isinstance(content_type, str) and content_type:
        headers = (("Content-Type", _visible(content_type)),)
    body = config.get("MessageBody")
    return Respond(status=int(raw), headers=headers, body=body.encode("utf-8") if isinstance(body, str) else b"")
