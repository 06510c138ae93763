"""Fail closed (issue 11, finding 8): when the resources of a call cannot be worked out, the call is denied, for
every caller (root included) and whatever its policies allow, with AWS's AccessDenied of the protocol and a
diagnostic in the log and in the denial ``turnout explain`` reads; never checked on ``"*"`` (which an ``Allow *``
grants while a Deny scoped to the real resource does not apply to it)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from turnout.authz import context as authz_context
from turnout.authz import diagnostics
from turnout.authz.authorizer import Authorization
from turnout.core.context import RequestContext
from turnout.core.principal import Principal
from turnout.wire.errors import ServiceError
from turnout.wire.models import SERVICES

from ..authz_support import InProcess, allow
from .test_context import served_operations

ACCOUNT = "000000000000"
DENIED = {"query": ("AccessDenied", 403), "json": ("AccessDeniedException", 400),
          "ec2": ("UnauthorizedOperation", 403), "rest-xml": ("AccessDenied", 403)}
FAILURES = (KeyError("clusterArn"), ValueError("bad"), TypeError("None"), AttributeError("x"), IndexError("0"),
            RuntimeError("bug"), AssertionError(), ZeroDivisionError())


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> InProcess:
    env = InProcess(tmp_path_factory.mktemp("failclosed") / "data")
    iam = env.client("iam")
    everything = json.dumps(allow("*"))
    iam.create_user(UserName="admin")
    iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=everything)
    return env


@pytest.fixture(scope="module")
def admin_key(env: InProcess) -> dict[str, str]:
    key: dict[str, str] = env.client("iam").create_access_key(UserName="admin")["AccessKey"]
    return key


@pytest.fixture(scope="module")
def admin(env: InProcess, admin_key: dict[str, str]) -> Principal:
    return env.gateway.credentials.resolve(admin_key["AccessKeyId"]).principal


@pytest.fixture
def failing_plans() -> Iterator[None]:
    with mock.patch.object(authz_context.Plan, "run", side_effect=KeyError("clusterArn")):
        yield


def test_an_admin_is_denied_with_the_diagnostic_kept(env: InProcess, admin_key: dict[str, str],
                                                     failing_plans: None, caplog: pytest.LogCaptureFixture) -> None:
    ecs = env.client("ecs", admin_key["AccessKeyId"], admin_key["SecretAccessKey"])
    with caplog.at_level(logging.ERROR, logger="turnout.authz"), pytest.raises(ClientError) as info:
        ecs.describe_clusters(clusters=["web"])
    error = info.value.response["Error"]
    assert (error["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDeniedException", 400)
    assert error["Message"] == (f"User: arn:aws:iam::{ACCOUNT}:user/admin is not authorized to perform: "
                                "ecs:DescribeClusters on resource: *")
    assert "could not derive the resources of ecs.DescribeClusters" in caplog.text
    assert env.last is not None
    denial = diagnostics.explain(env.gateway.db, env.last.request_id)
    assert denial is not None and denial.reason is not None
    assert "could not work out the resources of ecs:DescribeClusters (KeyError: 'clusterArn')" in denial.reason
    assert "could not work out the resources" in denial.describe()


def test_root_is_denied_too(env: InProcess, failing_plans: None) -> None:
    with pytest.raises(ClientError) as info:
        env.client("iam").list_users()
    assert info.value.response["Error"]["Code"] == "AccessDenied"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_without_the_failure_the_same_calls_are_allowed(env: InProcess) -> None:
    env.client("iam").list_users()  # the denials above come from the failure, not from the policies
    env.client("ecs").describe_clusters(clusters=["web"])


def _operations() -> list[tuple[str, str]]:
    from turnout.store.db import Database

    served = served_operations(Database(":memory:"))
    return sorted((service, op) for service, ops in served.items() for op in ops)


OPERATIONS = _operations()


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operation=st.sampled_from(OPERATIONS), failure=st.sampled_from(FAILURES),
       who=st.sampled_from(["root", "admin", "service"]), where=st.sampled_from(["run", "plan"]),
       params=st.dictionaries(st.text(max_size=8), st.one_of(st.none(), st.text(max_size=8), st.integers(),
                                                               st.lists(st.text(max_size=4), max_size=2)),
                              max_size=3))
def test_a_failure_working_out_resources_never_allows(env: InProcess, admin: Principal, operation: tuple[str, str],
                                                      failure: Exception, who: str, where: str,
                                                      params: dict[str, Any]) -> None:
    service_name, operation_name = operation
    spec = SERVICES[service_name]
    principal = {"root": Principal.root(ACCOUNT), "admin": admin,
                 "service": Principal.service("ecs.amazonaws.com")}[who]
    ctx = RequestContext(env.gateway, f"req-{service_name}-{operation_name}", env.gateway.clock.now(),
                         service=spec, operation=spec.operation(operation_name), principal=principal, params=params)
    env.authorizer._read_checks.clear()  # IAM reads' checks are cached: derive them afresh, so they fail
    if where == "run":
        patched = mock.patch.object(authz_context.Plan, "run", side_effect=failure)
    else:
        patched = mock.patch.object(authz_context, "_plan_for", side_effect=failure)
    with patched, mock.patch.dict(authz_context._PLANS, clear=True), pytest.raises(ServiceError) as info:
        env.authorizer.authorize(ctx)
    assert (info.value.code, info.value.status) == DENIED[spec.protocol]
    authorization = ctx.annotations["authz"]
    assert isinstance(authorization, Authorization) and not authorization.allowed
    assert authorization.denied is not None and authorization.denied.decision.reason is not None
    assert "could not work out the resources" in authorization.denied.decision.reason
    assert all(not e.decision.allowed for e in authorization.evaluated)
