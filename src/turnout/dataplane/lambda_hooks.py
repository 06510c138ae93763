"""AWS_LAMBDA lifecycle hooks without a Lambda service.

Turnout has no Lambda. ``turnout serve --lambda NAME=URL`` (repeatable) maps a function name to a local HTTP
endpoint: ECS's invocation of the hook ``arn:aws:lambda:<region>:<account>:function:NAME`` becomes a POST of AWS's
hook event (JSON) to URL, and the endpoint answers what the function would return (``{"hookStatus": ...,
"callBackDelay": ..., "hookDetails": ...}``). The deployment engine builds the event with :func:`payload`, calls
:func:`invoke` and acts on the :class:`HookResult`.

A :attr:`HookResult.failure` is the text ECS puts after ``Service deployment rolled back because <STAGE> lifecycle
hook(s) failed. `` in the deployment's statusReason (AWS's forms, troubleshooting-blue-green):

* ``Lifecycle hook target <arn> returned FAILED status.``
* ``ECS was unable to parse the response from <arn> due to HookStatus must not be null``
* ``ECS was unable to invoke hook target <arn> due to <why>``
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
IN_PROGRESS = "IN_PROGRESS"
HOOK_STATUSES = (SUCCEEDED, FAILED, IN_PROGRESS)

# "By default, the delay is 30 seconds" (ECS developer guide, Lambda hooks): IN_PROGRESS without callBackDelay.
DEFAULT_CALLBACK_DELAY = 30.0

NAME_PATTERN = r"[a-zA-Z0-9\-_]{1,64}"
_NAME = re.compile(NAME_PATTERN)
# arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>] (qualifier: $LATEST, a version or an alias).
_ARN = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:function:(" + NAME_PATTERN + r")"
    r"(?::(?:\$LATEST|[a-zA-Z0-9\-_]{1,128}))?"
)


def function_name(arn_or_name: str) -> str | None:
    """The function name of a Lambda function ARN (qualified or not) or of a bare function name; None otherwise."""
    if _NAME.fullmatch(arn_or_name):
        return arn_or_name
    match = _ARN.fullmatch(arn_or_name)
    return match.group(1) if match else None


def payload(
    *,
    execution_id: str,
    stage: str,
    deployment_arn: str,
    service_arn: str,
    target_revision_arn: str,
    test_weights: dict[str, float],
    production_weights: dict[str, float],
    hook_details: Any,
) -> dict[str, Any]:
    """The event ECS passes to a hook function, in the layout of AWS's "Lambda hooks for Amazon ECS service
    deployments" page (docs/ecs-deployments.md, "The Lambda hook event"): ``executionId``, ``lifecycleStage``,
    ``resourceArn`` (the service deployment's ARN) at the top, ``serviceArn``, ``targetServiceRevisionArn`` and both
    weight maps inside ``executionDetails``. A weight map goes from service revision ARN to percent and is ``{}``
    at the stages without those weights, as in each of AWS's per-stage examples; a whole percent is sent as an
    integer (AWS's examples: ``100``, ``0``). ``hookDetails`` (the hook's configured ``hookDetails`` merged with
    what earlier invocations of the same hook returned) is sent only when there is some, as AWS's examples of hooks
    configured without it show no such key.
    """
    event: dict[str, Any] = {
        "executionId": execution_id,
        "lifecycleStage": stage,
        "resourceArn": deployment_arn,
        "executionDetails": {
            "serviceArn": service_arn,
            "targetServiceRevisionArn": target_revision_arn,
            "testTrafficWeights": _percents(test_weights),
            "productionTrafficWeights": _percents(production_weights),
        },
    }
    if hook_details is not None:
        event["hookDetails"] = hook_details
    return event


def _percents(weights: dict[str, float]) -> dict[str, float | int]:
    return {arn: int(w) if float(w).is_integer() else float(w) for arn, w in weights.items()}


@dataclass(frozen=True)
class HookResult:
    """What one invocation of a hook function decided.

    ``status``: SUCCEEDED, FAILED or IN_PROGRESS (every failure to invoke or to understand the answer is FAILED,
    as ECS rolls back on them). ``callback_delay``: seconds before ECS invokes again (IN_PROGRESS only; 0 otherwise).
    ``hook_details``: the answer's ``hookDetails`` (None when absent). ``failure``: the statusReason detail of a
    FAILED result, the text after "Service deployment rolled back because <STAGE> lifecycle hook(s) failed. ".
    """

    status: str
    callback_delay: float = 0.0
    hook_details: Any = None
    failure: str | None = None


def _unable_to_invoke(function_arn: str, why: str) -> HookResult:
    return HookResult(FAILED, failure=f"ECS was unable to invoke hook target {function_arn} due to {why}")


def _unable_to_parse(function_arn: str, why: str) -> HookResult:
    return HookResult(FAILED, failure=f"ECS was unable to parse the response from {function_arn} due to {why}")


def interpret(function_arn: str, body: bytes, function_error: str | None = None) -> HookResult:
    """The :class:`HookResult` of a function's answer (the body of a 2xx response of its endpoint)."""
    try:
        answer = json.loads(body.decode("utf-8")) if body.strip() else None
    except (UnicodeDecodeError, ValueError):
        # AWS does not document the text for a response that is not JSON: our wording.
        return _unable_to_parse(function_arn, "the response is not valid JSON")
    if function_error is not None or (isinstance(answer, dict) and "errorMessage" in answer):
        # A Lambda "function error" (X-Amz-Function-Error: Unhandled, or the {"errorMessage", "errorType"} body a
        # runtime returns for an uncaught exception). ECS's wording for it is not documented: our wording.
        kind = function_error or "Unhandled"
        message = answer.get("errorMessage") if isinstance(answer, dict) else None
        detail = f": {message}" if isinstance(message, str) and message else ""
        return _unable_to_invoke(function_arn, f"a function error ({kind}){detail}")
    if not isinstance(answer, dict):
        # A JSON value that is not an object has no hookStatus either (AWS's message for a missing hookStatus).
        return _unable_to_parse(function_arn, "HookStatus must not be null")
    status = answer.get("hookStatus")
    if status is None:
        return _unable_to_parse(function_arn, "HookStatus must not be null")
    if status not in HOOK_STATUSES:
        # AWS does not document the text for an unknown value (values are case-sensitive): our wording.
        return _unable_to_parse(function_arn, f"HookStatus must be one of {', '.join(HOOK_STATUSES)}")
    details = answer.get("hookDetails")
    if status == FAILED:
        return HookResult(FAILED, hook_details=details,
                          failure=f"Lifecycle hook target {function_arn} returned FAILED status.")
    if status == SUCCEEDED:
        return HookResult(SUCCEEDED, hook_details=details)
    delay = answer.get("callBackDelay")
    if delay is None:
        return HookResult(IN_PROGRESS, DEFAULT_CALLBACK_DELAY, details)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not math.isfinite(delay) or delay < 0:
        # AWS does not document the text for a bad callBackDelay: our wording.
        return _unable_to_parse(function_arn, "CallBackDelay must be a non-negative number")
    return HookResult(IN_PROGRESS, float(delay), details)


def _post(url: str, body: bytes, timeout: float) -> tuple[int, bytes, str | None]:
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "turnout-ecs-lifecycle-hook"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # an operator-given http(s) URL
        return response.status, response.read(), response.headers.get("X-Amz-Function-Error")


def _call(url: str, function_arn: str, event: dict[str, Any], timeout: float) -> HookResult:
    body = json.dumps(event).encode("utf-8")
    # The whys below are ours (a local endpoint has failure modes a Lambda function has not); each names the URL.
    try:
        status, answer, function_error = _post(url, body, timeout)
    except urllib.error.HTTPError as error:
        return _unable_to_invoke(function_arn, f"HTTP {error.code} {error.reason} from the endpoint {url}")
    except TimeoutError:
        return _unable_to_invoke(function_arn, f"no answer from the endpoint {url} within {timeout:g} seconds")
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            return _unable_to_invoke(function_arn, f"no answer from the endpoint {url} within {timeout:g} seconds")
        if isinstance(reason, ConnectionRefusedError):
            return _unable_to_invoke(function_arn, f"the endpoint {url} refused the connection")
        return _unable_to_invoke(function_arn, f"the endpoint {url} could not be reached ({reason})")
    except (OSError, ValueError) as error:  # reset connections, malformed responses, bad URLs
        return _unable_to_invoke(function_arn, f"the endpoint {url} failed ({error})")
    if not 200 <= status < 300:  # urllib raises HTTPError for most of these; 1xx/3xx leftovers land here
        return _unable_to_invoke(function_arn, f"HTTP {status} from the endpoint {url}")
    return interpret(function_arn, answer, function_error)


async def invoke(
    endpoints: Mapping[str, str], function_arn: str, event: dict[str, Any], *, timeout: float = 15.0,
) -> HookResult:
    """Invoke the hook function ``function_arn`` with ``event`` through its ``--lambda`` endpoint. Never raises.

    The blocking HTTP call runs in a worker thread so the event loop stays free. A function that is not configured
    fails the way Lambda's Invoke does for a missing function (ResourceNotFoundException, "Function not found:
    <arn>").
    """
    name = function_name(function_arn)
    url = endpoints.get(name) if name is not None else None
    if url is None:
        return _unable_to_invoke(function_arn, f"Function not found: {function_arn}")
    try:
        return await asyncio.to_thread(_call, url, function_arn, event, timeout)
    except Exception as error:  # never raise into the engine
        return _unable_to_invoke(function_arn, f"an unexpected error calling the endpoint {url} ({error!r})")
