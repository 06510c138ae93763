"""Which load balancers use a target group: the rule index kept with every rule write, rebuilt for a database
made before it existed."""

from __future__ import annotations

from pathlib import Path

from turnout.server import Settings, build_gateway
from turnout.services.elbv2 import usage

from .support import balancer_with_two_groups, caller


def test_index_follows_writes_and_is_rebuilt_when_missing(tmp_path: Path) -> None:
    gateway = build_gateway(Settings(data_dir=tmp_path, enforce_iam=False, cloudtrail=False))

    call = caller(gateway)
    lb, blue, green = balancer_with_two_groups(gateway, call)
    fixed = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
    listener = call("CreateListener", LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=fixed)[
        "Listeners"][0]["ListenerArn"]
    db = gateway.db
    assert usage.load_balancers_using(db, "000000000000", "us-east-1", blue) == []
    rule = call("CreateRule", ListenerArn=listener, Priority=1, Conditions=[
        {"Field": "path-pattern", "Values": ["/*"]}], Actions=[{"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": blue, "Weight": 100}, {"TargetGroupArn": green, "Weight": 0}]}}])[
        "Rules"][0]["RuleArn"]
    assert usage.load_balancers_using(db, "000000000000", "us-east-1", green) == [lb]  # weight 0 counts
    call("ModifyRule", RuleArn=rule, Actions=[{"Type": "forward", "TargetGroupArn": blue}])
    assert usage.load_balancers_using(db, "000000000000", "us-east-1", green) == []
    call("ModifyListener", ListenerArn=listener, DefaultActions=[{"Type": "forward", "TargetGroupArn": green}])
    assert usage.load_balancers_using(db, "000000000000", "us-east-1", green) == [lb]
    # A database from before the index: rebuilt from the rules on first use.
    db.execute("DELETE FROM elbv2_rule_targets")
    db.execute("DELETE FROM elbv2_rule_targets_state")
    usage._BUILT.discard(db)
    assert usage.load_balancers_using(db, "000000000000", "us-east-1", blue) == [lb]
    assert usage.load_balancers_using(db, "000000000000", "us-east-1", green) == [lb]
    call("DeleteRule", RuleArn=rule)
    assert usage.load_balancers_using(db, "000000000000", "us-east-1", blue) == []
    call("DeleteLoadBalancer", LoadBalancerArn=lb)
    assert usage.load_balancers_using(db, "000000000000", "us-east-1", green) == []
    assert db.scalar("SELECT COUNT(*) FROM elbv2_rule_targets") == 0
    db.close()
