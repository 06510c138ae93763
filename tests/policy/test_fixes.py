"""The fix builders give documents the engine accepts, and that allow exactly what they name."""

from __future__ import annotations

import json

from turnout.policy import PolicySet, compile_policy, evaluate, make_request
from turnout.policy.fixes import allow_statement, policy_document, principal_trust_statement, render, trust_statement

ROLE = "arn:aws:iam::111122223333:role/infra"
RULE = ("arn:aws:elasticloadbalancing:us-east-1:111122223333:listener-rule/app/web/50dc6c495c0c9188/"
        "f2f7dc8efc522ab2/9683b2d02a6cabee")
OTHER_RULE = RULE[:-1] + "f"
SERVICE = "arn:aws:ecs:us-east-1:111122223333:service/prod/web"


def _policy(statements: list[dict[str, object]]) -> str:
    return render(policy_document(statements))


def test_allow_statement_allows_only_the_named_resource() -> None:
    text = _policy([allow_statement(["elasticloadbalancing:ModifyRule"], [RULE])])
    policy = compile_policy(text, policy_id="fix")
    allowed = evaluate(make_request(ROLE, "elasticloadbalancing:ModifyRule", RULE), PolicySet(identity=[policy]))
    other = evaluate(make_request(ROLE, "elasticloadbalancing:ModifyRule", OTHER_RULE), PolicySet(identity=[policy]))
    assert allowed.allowed
    assert not other.allowed


def test_repeats_collapse_and_single_values_stay_strings() -> None:
    statement = allow_statement(["a:B", "a:B"], [RULE, RULE, OTHER_RULE],
                                {"StringEquals": {"aws:ResourceTag/team": ["web"]}, "Bool": {}}, sid="Fix")
    assert statement == {
        "Sid": "Fix", "Effect": "Allow", "Action": "a:B", "Resource": [RULE, OTHER_RULE],
        "Condition": {"StringEquals": {"aws:ResourceTag/team": "web"}},
    }


def test_trust_statement_scopes_the_service_and_lets_it_assume() -> None:
    statement = trust_statement("ecs.amazonaws.com", source_account="111122223333", source_arn=SERVICE)
    document = json.loads(_policy([statement]))
    assert document["Version"] == "2012-10-17"
    assert document["Statement"][0]["Principal"] == {"Service": "ecs.amazonaws.com"}
    policy = compile_policy(json.dumps(document), policy_id="trust")
    context = {"aws:SourceAccount": "111122223333", "aws:SourceArn": SERVICE}
    request = make_request("ecs.amazonaws.com", "sts:AssumeRole", ROLE, context=context)
    assert evaluate(request, PolicySet(resource=policy, resource_kind="trust")).allowed
    elsewhere = make_request("ecs.amazonaws.com", "sts:AssumeRole", ROLE,
                             context={"aws:SourceAccount": "444455556666", "aws:SourceArn": SERVICE})
    assert not evaluate(elsewhere, PolicySet(resource=policy, resource_kind="trust")).allowed


def test_trust_statements_share_one_shape_for_a_service_and_an_iam_principal() -> None:
    assert trust_statement("ecs.amazonaws.com", source_account="111122223333", source_arn=SERVICE, sid="Ecs") == {
        "Sid": "Ecs", "Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}, "ArnLike": {"aws:SourceArn": SERVICE}},
    }
    assert trust_statement("ecs.amazonaws.com") == {
        "Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}
    user = "arn:aws:iam::111122223333:user/deployer"
    assert principal_trust_statement(user, sid="Deployer") == {
        "Sid": "Deployer", "Effect": "Allow", "Principal": {"AWS": user}, "Action": "sts:AssumeRole"}
    assert list(principal_trust_statement(user)) == ["Effect", "Principal", "Action"]
