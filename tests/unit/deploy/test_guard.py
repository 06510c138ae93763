"""The deployment guard on a gateway built as ``turnout serve`` builds it (no HTTP, no engine running): the ECS
store's role index, what each mode does, and which writes are judged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from turnout.core.principal import Principal
from turnout.server import Settings, build_gateway
from turnout.services.ecs import events
from turnout.services.ecs.store import services as service_store

ACCOUNT, REGION = "000000000000", "us-east-1"
MANAGED = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
ELB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}"
SERVICE = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/c/web"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
EC2_ONLY = TRUST.replace("ecs.amazonaws.com", "ec2.amazonaws.com")


def _gateway(tmp_path: Path, mode: str) -> Any:
    gateway = build_gateway(Settings(data_dir=tmp_path / mode, cloudtrail=False, dataplane=False, guard=mode))
    gateway.ensure_account(ACCOUNT)
    return gateway


def _call(gateway: Any, operation: str, **params: Any) -> Any:
    return gateway.invoke("iam", operation, params, Principal.root(ACCOUNT), region=REGION)


def _config(role: str) -> dict[str, Any]:
    return {"loadBalancers": [{"targetGroupArn": f"{ELB}:targetgroup/blue/1", "containerName": "web",
                               "containerPort": 80, "advancedConfiguration": {
                                   "alternateTargetGroupArn": f"{ELB}:targetgroup/green/2",
                                   "productionListenerRule": f"{ELB}:listener-rule/app/lb/1/2/3",
                                   "roleArn": f"arn:aws:iam::{ACCOUNT}:role/{role}"}}]}


@pytest.fixture(params=["block", "warn", "off"])
def gateway(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    gw = _gateway(tmp_path, request.param)
    assert _call(gw, "CreateRole", RoleName="Infra", AssumeRolePolicyDocument=TRUST).error is None
    assert _call(gw, "AttachRolePolicy", RoleName="Infra", PolicyArn=MANAGED).error is None
    assert _call(gw, "CreateRole", RoleName="Other", AssumeRolePolicyDocument=TRUST).error is None
    with gw.db.transaction():
        service_store.insert_service(gw.db, account=ACCOUNT, region=REGION, cluster="c", name="web", arn=SERVICE,
                                     config=_config("Infra"), created_at=gw.clock.now(), created_by=None)
    yield gw
    gw.db.close()


def _events(gw: Any) -> list[str]:
    return [e["message"] for e in events.latest(gw.db, ACCOUNT, REGION, SERVICE)]


def test_the_role_index_follows_the_service(gateway: Any) -> None:
    db = gateway.db
    assert [s.arn for s in service_store.services_using_roles(db, ACCOUNT, ["infra"])] == [SERVICE]
    assert service_store.services_using_roles(db, ACCOUNT, ["other"]) == []
    with db.transaction():
        service_store.set_config(db, ACCOUNT, REGION, SERVICE, _config("Other"), gateway.clock.now())
    assert service_store.services_using_roles(db, ACCOUNT, ["infra"]) == []
    assert [s.arn for s in service_store.services_using_roles(db, ACCOUNT, ["other"])] == [SERVICE]
    with db.transaction():
        service_store.set_inactive(db, ACCOUNT, REGION, SERVICE, gateway.clock.now())
    assert service_store.services_using_roles(db, ACCOUNT, ["other"]) == []


def test_each_mode_on_a_trust_policy_that_drops_ecs(gateway: Any, caplog: pytest.LogCaptureFixture) -> None:
    mode = Path(gateway.db.path).parent.name
    ctx = _call(gateway, "UpdateAssumeRolePolicy", RoleName="Infra", PolicyDocument=EC2_ONLY)
    trust = _call(gateway, "GetRole", RoleName="Infra").result["Role"]["AssumeRolePolicyDocument"]
    if mode == "block":
        assert (ctx.error.code, ctx.error.status) == ("DeleteConflict", 409)
        assert f"service {SERVICE}" in ctx.error.message and "sts:AssumeRole" in ctx.error.message
        assert "ecs.amazonaws.com" in trust  # rolled back
        assert _events(gateway) == []
    elif mode == "warn":
        assert ctx.error is None and "ec2.amazonaws.com" in trust
        [event] = _events(gateway)
        assert event.startswith("(service web) IAM UpdateAssumeRolePolicy on role Infra: the next deployment will "
                                "fail. ECS could not assume the role as ecs.amazonaws.com: sts:AssumeRole")
        assert any("deployment guard" in r.getMessage() for r in caplog.records)
    else:
        assert ctx.error is None and _events(gateway) == []


def test_writes_on_other_roles_and_harmless_writes_pass(gateway: Any) -> None:
    assert _call(gateway, "UpdateAssumeRolePolicy", RoleName="Other", PolicyDocument=EC2_ONLY).error is None
    harmless = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]})
    assert _call(gateway, "PutRolePolicy", RoleName="Infra", PolicyName="p", PolicyDocument=harmless).error is None
    assert _events(gateway) == []


def test_which_policies_can_matter_to_ecs_sessions() -> None:
    from turnout.deploy.guard import _applies

    def doc(statement: dict[str, Any]) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Resource": "*", **statement}]})

    assert not _applies(doc({"Action": "s3:*"}))
    assert not _applies(doc({"Action": "elasticloadbalancing:DescribeTags"}))
    assert _applies(doc({"Action": "elasticloadbalancing:Modify*"}))
    assert _applies(doc({"Action": "lambda:InvokeFunction"}))
    assert _applies(doc({"Action": "*"}))
    assert _applies(doc({"NotAction": "s3:*"}))  # applies to every action but S3's
    assert not _applies(doc({"NotAction": ["elasticloadbalancing:*", "lambda:*"]}))
    assert _applies("not json") and _applies(None)
