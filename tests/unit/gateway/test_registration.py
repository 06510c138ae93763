"""Registration is explicit: importing a service module installs nothing in the authorizer's registries; the
gateway installs the hooks a provider declares (``tag_lookups``, ``name_resolvers``) when it registers it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from turnout.authz.resources_base import name_resolvers, resource_tag_lookups
from turnout.core.clock import ManualClock
from turnout.gateway.gateway import Gateway
from turnout.services.ec2.provider import Ec2Provider, security_group_arn
from turnout.services.ec2.tags import lookup as ec2_tags
from turnout.services.ecs.provider import EcsProvider
from turnout.services.ecs.tags import resource_tags as ecs_tags
from turnout.services.ecs.task_definitions import latest_arn
from turnout.services.elbv2.provider import Elbv2Provider
from turnout.services.elbv2.tags import resource_tags as elb_tags
from turnout.services.registry import register_all
from turnout.store.db import Database

EXPECTED_LOOKUPS = {"ec2": ec2_tags, "ecs": ecs_tags, "elasticloadbalancing": elb_tags}
EXPECTED_RESOLVERS = {"ec2:security-group": security_group_arn, "ecs:task-definition": latest_arn}


@pytest.fixture
def empty_registries() -> Iterator[None]:
    """The registries emptied for the test (other tests' gateways filled them), restored after it."""
    saved = dict(resource_tag_lookups), dict(name_resolvers)
    resource_tag_lookups.clear()
    name_resolvers.clear()
    try:
        yield
    finally:
        resource_tag_lookups.clear()
        resource_tag_lookups.update(saved[0])
        name_resolvers.clear()
        name_resolvers.update(saved[1])


def test_importing_every_service_module_registers_nothing() -> None:
    # A fresh interpreter: this one's registries were filled by whichever gateway a test built before.
    code = """
import json, pkgutil, importlib
import turnout.services
for module in pkgutil.walk_packages(turnout.services.__path__, "turnout.services."):
    importlib.import_module(module.name)
from turnout.authz.resources_base import name_resolvers, resource_tag_lookups
print(json.dumps([sorted(resource_tag_lookups), sorted(name_resolvers)]))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [[], []]


def test_registering_the_providers_installs_what_they_declare(empty_registries: None) -> None:
    assert Ec2Provider.tag_lookups == {"ec2": ec2_tags}
    assert EcsProvider.name_resolvers == {"ecs:task-definition": latest_arn}
    assert Elbv2Provider.name_resolvers == {}  # the base's default
    gateway = Gateway(db=Database(":memory:"), clock=ManualClock())
    register_all(gateway)
    assert resource_tag_lookups == EXPECTED_LOOKUPS
    assert name_resolvers == EXPECTED_RESOLVERS


def test_a_hook_installed_first_stays(empty_registries: None) -> None:
    """A test's own lookup, set before a gateway registers the providers, is not replaced."""

    def mine(db: Database, account: str, region: str, arn: str) -> dict[str, str]:
        return {}

    resource_tag_lookups["ecs"] = mine
    gateway = Gateway(db=Database(":memory:"), clock=ManualClock())
    gateway.register(EcsProvider)
    assert resource_tag_lookups == {"ecs": mine}
    assert name_resolvers == {"ecs:task-definition": latest_arn}
