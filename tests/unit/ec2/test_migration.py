"""Migration 0018 on a database made before it: existing VPCs get their DNS attributes (host names on for the
default VPC only) and a main route table each, with ids of EC2's form."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from turnout.services.ec2 import store
from turnout.store import db as dbmod
from turnout.store.db import Database

ACCOUNT, REGION = "111122223333", "us-east-1"


def _vpc(db: Database, vpc_id: str, is_default: bool) -> None:
    db.execute(
        "INSERT INTO ec2_vpcs (account_id, region, vpc_id, cidr_block, cidr_association_id, is_default, state, "
        "instance_tenancy, dhcp_options_id, created_at) VALUES (?, ?, ?, ?, ?, ?, 'available', 'default', ?, ?)",
        (ACCOUNT, REGION, vpc_id, "10.0.0.0/16", "vpc-cidr-assoc-0", int(is_default), "dopt-0",
         "2026-01-01T00:00:00+00:00"),
    )


def test_existing_vpcs_get_attributes_and_a_main_route_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    every = dbmod._migrations()
    monkeypatch.setattr(dbmod, "_migrations", lambda: [m for m in every if m[0] < 18])
    old = Database(tmp_path / "turnout.db")
    _vpc(old, "vpc-0000000000000000a", True)
    _vpc(old, "vpc-0000000000000000b", False)
    old.close()
    monkeypatch.setattr(dbmod, "_migrations", lambda: every)
    db = Database(tmp_path / "turnout.db")
    vpcs = {v.vpc_id: v for v in store.vpcs(db, ACCOUNT, REGION)}
    assert [(v.enable_dns_support, v.enable_dns_hostnames, v.enable_network_address_usage_metrics)
            for v in vpcs.values()] == [(True, True, False), (True, False, False)]
    tables = store.route_tables(db, ACCOUNT, REGION)
    assert sorted(t.vpc_id for t in tables) == sorted(vpcs)
    for table in tables:
        assert re.fullmatch(r"rtb-[0-9a-f]{17}", table.route_table_id)
        assert re.fullmatch(r"rtbassoc-[0-9a-f]{17}", table.main_association_id)
    assert len({t.route_table_id for t in tables}) == 2
    assert store.interfaces(db, ACCOUNT, REGION) == []
    db.close()
