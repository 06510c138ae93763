"""Which target group a ``forward`` action sends a request to, and which target of that group gets it.

Facts (docs/dataplane.md):

* "Forward, weights, stickiness": a forward action splits traffic between its target groups in proportion to their
  ``Weight`` (0-999); with ``TargetGroupStickinessConfig`` on, the ``AWSALBTG`` cookie (and its ``AWSALBTGCORS``
  twin, ``SameSite=None; Secure``) sends a client back to the group it named. Inside a group, ``stickiness.enabled``
  with ``stickiness.type`` ``lb_cookie`` sets ``AWSALB`` (+ ``AWSALBCORS``), with ``app_cookie`` the load balancer's
  application cookie ``AWSALBAPP-0`` .. ``AWSALBAPP-3`` (its shards; the unused ones hold ``_remove_``), which pins
  only while the client also sends the application's own cookie (``stickiness.app_cookie.cookie_name``: AWS's
  sticky-sessions page, "clients have to send back both cookies"). ``load_balancing.algorithm.type`` is
  ``round_robin`` (default), ``least_outstanding_requests`` or ``weighted_random``.
* "Health routing...": healthy targets (and ``unavailable`` ones: health checks off) get requests; when fewer than
  ``target_group_health.unhealthy_state_routing.minimum_healthy_targets.count`` (default 1; or ``.percentage``)
  do, the group fails open to every target but the draining and unused ones. A draining target never gets a new
  request.
* "NLB TCP listeners": a TCP connection is hashed on its flow and stays on one target for its life.

Turnout's choices where AWS is silent:

* Cookie values (AWS encrypts its own; clients must treat them as opaque): URL-safe base64, unpadded, of the JSON
  ``{"v": 1, "e": [...]}``. ``AWSALBTG`` entries are ``[group ARN, expiry]``; ``AWSALB`` and ``AWSALBAPP``
  entries ``[group ARN, target id, target port, expiry]`` (expiry: Unix seconds). One cookie carries the pins of
  up to :data:`MAX_PINS` groups (or forward actions), newest first, so that two rules forwarding to two sticky
  groups do not undo each other. A cookie that does not decode, has expired, or names a group or target that is
  not a candidate any more is ignored, never an error.
* A pin lasts ``DurationSeconds`` (``stickiness.*.duration_seconds``, default 86400) from when it was made: the
  cookie is sent again on every response, with the same pin and expiry, and the next choice after it expires is a
  fresh one. The cookies' own ``Expires`` is seven days ahead, as AWS's ALB cookies are.
* The group cookie keeps pinning a group whose weight is now 0 while the group is still in the action
  (AWS re:Post, "Stickiness takes precedence over adjusting Weight"); every weight 0 and no pin: no group.
* ``AWSALBAPP-*`` is sent on every response of a group with application stickiness: the router decides before the
  response exists, so it cannot wait for the application's cookie as AWS does.
* Targets are taken in (id, port) order, so round robin's order does not depend on the order of the snapshot;
  ``least_outstanding_requests`` breaks ties round robin; ``weighted_random`` picks uniformly (targets carry no
  weights without anomaly mitigation, which Turnout does not reproduce); slow start is not reproduced.
* A TCP flow hashes on (source ip, source port) (``stickiness.type`` ``source_ip`` on: the source ip alone) by
  rendezvous hashing, so that a change in the candidates moves only the flows of the targets that changed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from email.utils import formatdate
from typing import Any

from .model import DRAINING, HEALTHY, UNAVAILABLE, UNUSED, Group, Request, Target

TG_COOKIE = "AWSALBTG"
TG_CORS_COOKIE = "AWSALBTGCORS"
LB_COOKIE = "AWSALB"
LB_CORS_COOKIE = "AWSALBCORS"
APP_COOKIE = "AWSALBAPP"
APP_SHARDS = 4  # AWSALBAPP-0 .. AWSALBAPP-3
APP_SHARD_SIZE = 4000  # characters per shard (a cookie must stay under 4096 bytes)
REMOVED = "_remove_"  # what AWS puts in the shards it does not use
COOKIE_LIFETIME = 7 * 24 * 3600  # the cookies' own Expires
DEFAULT_DURATION = 86400
MAX_DURATION = 604800
MAX_PINS = 4

_ROUTABLE = (HEALTHY, UNAVAILABLE)
_NOT_SERVING = (DRAINING, UNUSED)


# -- cookies ---------------------------------------------------------------------------------------------------


def _encode(entries: Sequence[Sequence[Any]]) -> str:
    text = json.dumps({"v": 1, "e": [list(entry) for entry in entries]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _decode(value: str | None) -> list[list[Any]]:
    """The entries of a cookie value of ours; [] for anything else."""
    if not value:
        return []
    value = value.strip().strip('"')
    if not value or len(value) > APP_SHARDS * APP_SHARD_SIZE:
        return []
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # binascii.Error, UnicodeDecodeError and JSONDecodeError are ValueErrors
        return []
    if not isinstance(data, dict) or data.get("v") != 1 or not isinstance(data.get("e"), list):
        return []
    return [entry for entry in data["e"] if isinstance(entry, list)]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _group_pins(value: str | None, now: float) -> list[tuple[str, float]]:
    """``AWSALBTG`` entries still in force: (group ARN, expiry)."""
    return [(entry[0], float(entry[1])) for entry in _decode(value)
            if len(entry) == 2 and isinstance(entry[0], str) and _number(entry[1]) and entry[1] > now]


def _target_pins(value: str | None, now: float) -> list[tuple[str, str, int, float]]:
    """``AWSALB``/``AWSALBAPP`` entries still in force: (group ARN, target id, port, expiry)."""
    return [(entry[0], entry[1], entry[2], float(entry[3])) for entry in _decode(value)
            if len(entry) == 4 and isinstance(entry[0], str) and isinstance(entry[1], str)
            and isinstance(entry[2], int) and not isinstance(entry[2], bool) and _number(entry[3])
            and entry[3] > now]


def _set_cookie(name: str, value: str, now: float, *, cors: bool = False) -> str:
    expires = formatdate(now + COOKIE_LIFETIME, usegmt=True)
    extra = "; SameSite=None; Secure" if cors else ""
    return f"{name}={value}; Expires={expires}; Path=/{extra}"


def _with_twin(name: str, twin: str, value: str, now: float) -> tuple[str, str]:
    return _set_cookie(name, value, now), _set_cookie(twin, value, now, cors=True)


def _app_value(cookies: Mapping[str, str]) -> str:
    """The application cookie's shards put back together (``_remove_`` ones left out)."""
    parts = [cookies.get(f"{APP_COOKIE}-{index}", "").strip().strip('"') for index in range(APP_SHARDS)]
    return "".join(part for part in parts if part != REMOVED)


def _app_cookies(value: str, now: float) -> tuple[str, ...]:
    shards = [value[start:start + APP_SHARD_SIZE] for start in range(0, len(value), APP_SHARD_SIZE)]
    shards += [REMOVED] * (APP_SHARDS - len(shards))
    return tuple(_set_cookie(f"{APP_COOKIE}-{index}", shard, now) for index, shard in enumerate(shards))


def _duration(raw: Any) -> int:
    try:
        seconds = int(raw)
    except (TypeError, ValueError):
        return DEFAULT_DURATION
    return seconds if 1 <= seconds <= MAX_DURATION else DEFAULT_DURATION


# -- forward actions -------------------------------------------------------------------------------------------


def forward_groups(forward: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(target group ARN, weight) of a forward action: ``ForwardConfig.TargetGroups`` or, without it, the plain
    ``TargetGroupArn`` with weight 1. Malformed items are left out."""
    config = forward.get("ForwardConfig")
    items = config.get("TargetGroups") if isinstance(config, Mapping) else None
    found: list[tuple[str, int]] = []
    if isinstance(items, list | tuple) and items:
        for item in items:
            if not isinstance(item, Mapping) or not isinstance(item.get("TargetGroupArn"), str):
                continue
            weight = item.get("Weight", 1)
            weight = weight if isinstance(weight, int) and not isinstance(weight, bool) else 1
            found.append((item["TargetGroupArn"], max(0, weight)))
        return found
    arn = forward.get("TargetGroupArn")
    return [(arn, 1)] if isinstance(arn, str) and arn else []


def _group_stickiness(forward: Mapping[str, Any]) -> int | None:
    """The group stickiness duration in seconds, None when it is off."""
    config = forward.get("ForwardConfig")
    sticky = config.get("TargetGroupStickinessConfig") if isinstance(config, Mapping) else None
    if not isinstance(sticky, Mapping) or sticky.get("Enabled") is not True:
        return None
    return _duration(sticky.get("DurationSeconds"))


# -- targets ---------------------------------------------------------------------------------------------------


def _count(raw: Any, default: int | None) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return default


def candidates(group: Group) -> list[Target]:
    """The targets a new request or connection may go to, in (id, port) order: the healthy and ``unavailable``
    ones with an address, or, when there are fewer of them than the group's minimum healthy targets, every target
    with an address that is neither draining nor unused (fail open)."""
    serving = sorted((t for t in group.targets if t.address is not None and t.state not in _NOT_SERVING),
                     key=lambda t: (t.id, t.port))
    routable = [t for t in serving if t.state in _ROUTABLE]
    prefix = "target_group_health.unhealthy_state_routing.minimum_healthy_targets."
    minimum = max(1, _count(group.attributes.get(prefix + "count"), 1) or 1)
    percentage = _count(group.attributes.get(prefix + "percentage"), None)  # "off": None
    enough = len(routable) >= minimum
    if enough and percentage is not None and serving:
        enough = len(routable) * 100 >= percentage * len(serving)
    return routable if enough else serving


def _flow_score(key: str, target: Target) -> int:
    digest = hashlib.sha256(f"{key}|{target.id}|{target.port}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


class Balancer:
    """Per target group state (round-robin position, outstanding requests per target). One per process.

    ``rng`` draws the weighted group choice and ``weighted_random`` targets (seed it for repeatable tests);
    ``clock`` gives Unix seconds for the cookies' expiries (``time.time`` by default: cookies live in real time).
    Safe to share between threads."""

    def __init__(self, rng: random.Random | None = None, *, clock: Callable[[], float] | None = None) -> None:
        self._rng = rng if rng is not None else random.Random()
        self._clock = clock if clock is not None else time.time
        self._lock = threading.Lock()
        self._positions: dict[str, int] = {}
        self._outstanding: dict[tuple[str, str, int], int] = {}

    # -- groups ------------------------------------------------------------------------------------------------

    def choose_group(self, forward: Mapping[str, Any], request: Request | None) -> tuple[str | None, tuple[str, ...]]:
        """(target group ARN, Set-Cookie values) for a forward action: the group the request's ``AWSALBTG`` cookie
        pins when group stickiness is on and that group is still in the action, else one drawn by weight. None
        when the action has no group or every weight is 0 (Turnout's choice: the listener answers 503)."""
        groups = forward_groups(forward)
        duration = _group_stickiness(forward)
        now = self._clock()
        pins = _group_pins(request.cookies().get(TG_COOKIE), now) if duration and request is not None else []
        arns = {arn for arn, _ in groups}
        pinned = next(((arn, expiry) for arn, expiry in pins if arn in arns), None)
        chosen = pinned[0] if pinned is not None else self._by_weight(groups)
        if chosen is None or duration is None or request is None:
            return chosen, ()
        entry = pinned if pinned is not None else (chosen, float(int(now) + duration))
        others = [pin for pin in pins if pin[0] not in arns]
        value = _encode([entry, *others][:MAX_PINS])
        return chosen, _with_twin(TG_COOKIE, TG_CORS_COOKIE, value, now)

    def _by_weight(self, groups: Sequence[tuple[str, int]]) -> str | None:
        weighted = [(arn, weight) for arn, weight in groups if weight > 0]
        total = sum(weight for _, weight in weighted)
        if total <= 0:
            return None
        with self._lock:
            point = self._rng.random() * total
        for arn, weight in weighted:
            point -= weight
            if point < 0:
                return arn
        return weighted[-1][0]  # float rounding at the very top

    # -- targets -----------------------------------------------------------------------------------------------

    def choose_target(self, group: Group, request: Request | None, flow: tuple[str, int] | None = None
                      ) -> tuple[Target | None, tuple[str, ...]]:
        """(target, Set-Cookie values) for a new request (``request``) or TCP connection (``flow``: the client's
        (ip, port)) to ``group``; None when no target may get it (see :func:`candidates`)."""
        found = candidates(group)
        if not found:
            return None, ()
        if flow is not None:
            return self._by_flow(group, found, flow), ()
        kind = self._stickiness(group) if request is not None else None
        if kind is None or request is None:
            return self._pick(group, found), ()
        now = self._clock()
        cookies = request.cookies()
        if kind == "app_cookie":
            pins = _target_pins(_app_value(cookies), now)
            app_name = group.attributes.get("stickiness.app_cookie.cookie_name", "")
            usable = bool(app_name) and app_name in cookies
            duration = _duration(group.attributes.get("stickiness.app_cookie.duration_seconds"))
        else:
            pins = _target_pins(cookies.get(LB_COOKIE), now)
            usable = True
            duration = _duration(group.attributes.get("stickiness.lb_cookie.duration_seconds"))
        by_key = {(t.id, t.port): t for t in found}
        pinned = next((pin for pin in pins if usable and pin[0] == group.arn and (pin[1], pin[2]) in by_key), None)
        if pinned is not None:
            target, entry = by_key[(pinned[1], pinned[2])], pinned
        else:
            target = self._pick(group, found)
            entry = (group.arn, target.id, target.port, float(int(now) + duration))
        others = [pin for pin in pins if pin[0] != group.arn]
        value = _encode([entry, *others][:MAX_PINS])
        if kind == "app_cookie":
            return target, _app_cookies(value, now)
        return target, _with_twin(LB_COOKIE, LB_CORS_COOKIE, value, now)

    @staticmethod
    def _stickiness(group: Group) -> str | None:
        """``lb_cookie`` or ``app_cookie`` when the group's target stickiness is on and cookie based."""
        if str(group.attributes.get("stickiness.enabled", "false")).lower() != "true":
            return None
        kind = group.attributes.get("stickiness.type", "lb_cookie")
        return kind if kind in ("lb_cookie", "app_cookie") else None

    def _pick(self, group: Group, found: Sequence[Target]) -> Target:
        algorithm = group.attributes.get("load_balancing.algorithm.type", "round_robin")
        with self._lock:
            if algorithm == "weighted_random":
                return found[self._rng.randrange(len(found))]
            pool = list(found)
            if algorithm == "least_outstanding_requests":
                counts = [self._outstanding.get(self._key(t), 0) for t in found]
                low = min(counts)
                pool = [t for t, count in zip(found, counts, strict=True) if count == low]
            position = self._positions.get(group.arn, 0)
            self._positions[group.arn] = position + 1
            return pool[position % len(pool)]

    @staticmethod
    def _by_flow(group: Group, found: Sequence[Target], flow: tuple[str, int]) -> Target:
        source_ip, source_port = flow
        sticky = str(group.attributes.get("stickiness.enabled", "false")).lower() == "true" and \
            group.attributes.get("stickiness.type") == "source_ip"
        key = str(source_ip) if sticky else f"{source_ip}|{source_port}"
        return max(found, key=lambda t: _flow_score(key, t))

    # -- outstanding requests ----------------------------------------------------------------------------------

    @staticmethod
    def _key(target: Target) -> tuple[str, str, int]:
        return target.target_group_arn, target.id, target.port

    def outstanding(self, target: Target) -> int:
        """Requests sent to ``target`` and not finished yet."""
        with self._lock:
            return self._outstanding.get(self._key(target), 0)

    def started(self, target: Target) -> None:
        """A request was sent to ``target`` (what ``least_outstanding_requests`` counts)."""
        key = self._key(target)
        with self._lock:
            self._outstanding[key] = self._outstanding.get(key, 0) + 1

    def finished(self, target: Target) -> None:
        """A request sent to ``target`` ended (answered or failed); more finishes than starts are ignored."""
        key = self._key(target)
        with self._lock:
            left = self._outstanding.get(key, 0) - 1
            if left > 0:
                self._outstanding[key] = left
            else:
                self._outstanding.pop(key, None)
