"""ECS clusters with real boto3 clients against a real server: create (default name, settings, tags,
idempotence), describe (include, MISSING failures, INACTIVE after delete), list with paging, delete, update,
and tags on clusters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Server, error_of

ACCOUNT = "000000000000"
PREFIX = f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/"


@pytest.fixture
def ecs(server: Server) -> Any:
    return server.client("ecs")


def test_create_cluster_defaults_and_tags(ecs: Any, unique: Callable[[str], str]) -> None:
    name = unique("cl")
    cluster = ecs.create_cluster(clusterName=name, tags=[{"key": "team", "value": "web"}])["cluster"]
    assert cluster["clusterArn"] == PREFIX + name
    assert cluster["clusterName"] == name
    assert cluster["status"] == "ACTIVE"
    assert cluster["activeServicesCount"] == 0 and cluster["runningTasksCount"] == 0
    assert cluster["settings"] == [{"name": "containerInsights", "value": "disabled"}]
    assert cluster["tags"] == [{"key": "team", "value": "web"}]


def test_create_cluster_is_idempotent(ecs: Any, unique: Callable[[str], str]) -> None:
    name = unique("cl")
    first = ecs.create_cluster(clusterName=name, settings=[{"name": "containerInsights", "value": "enabled"}])
    again = ecs.create_cluster(clusterName=name)
    assert again["cluster"]["clusterArn"] == first["cluster"]["clusterArn"]
    assert again["cluster"]["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assert ecs.list_clusters(maxResults=100)["clusterArns"].count(PREFIX + name) == 1


def test_default_cluster_name(fresh_server: Server) -> None:
    ecs = fresh_server.client("ecs")
    assert ecs.create_cluster()["cluster"]["clusterName"] == "default"
    described = ecs.describe_clusters()["clusters"]
    assert [c["clusterArn"] for c in described] == [PREFIX + "default"]


def test_create_cluster_bad_inputs(ecs: Any) -> None:
    code, message, status = error_of(ecs.create_cluster, clusterName="bad name!")
    assert (code, status) == ("InvalidParameterException", 400)
    assert "Cluster name can have up to 255 characters" in message
    code, message, status = error_of(ecs.create_cluster, clusterName="ok-name",
                                     settings=[{"name": "containerInsights", "value": "sometimes"}])
    assert (code, status) == ("InvalidParameterException", 400)
    assert message == "Invalid value for containerInsights. Valid values are: enabled, disabled, enhanced."
    code, _, _ = error_of(ecs.create_cluster, clusterName="ok-name", tags=[{"key": "aws:x", "value": "1"}])
    assert code == "InvalidParameterException"


def test_describe_clusters_include_and_missing(ecs: Any, unique: Callable[[str], str]) -> None:
    name, missing = unique("cl"), unique("nope")
    ecs.create_cluster(clusterName=name, tags=[{"key": "k", "value": "v"}])
    plain = ecs.describe_clusters(clusters=[name, missing])
    assert [c["clusterName"] for c in plain["clusters"]] == [name]
    assert "tags" not in plain["clusters"][0] and "settings" not in plain["clusters"][0]
    assert plain["failures"] == [{"arn": PREFIX + missing, "reason": "MISSING"}]
    full = ecs.describe_clusters(clusters=[PREFIX + name], include=["TAGS", "SETTINGS"])["clusters"][0]
    assert full["tags"] == [{"key": "k", "value": "v"}]
    assert full["settings"] == [{"name": "containerInsights", "value": "disabled"}]


def test_list_clusters_pages(ecs: Any, unique: Callable[[str], str]) -> None:
    names = [unique("page") for _ in range(3)]
    for name in names:
        ecs.create_cluster(clusterName=name)
    seen: list[str] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"maxResults": 2}
        if token:
            kwargs["nextToken"] = token
        answer = ecs.list_clusters(**kwargs)
        assert len(answer["clusterArns"]) <= 2
        seen += answer["clusterArns"]
        token = answer.get("nextToken")
        if not token:
            break
    assert len(seen) == len(set(seen))
    assert {PREFIX + n for n in names} <= set(seen)
    code, message, _ = error_of(ecs.list_clusters, maxResults=101)
    assert (code, message) == ("InvalidParameterException", "maxResults can be between 1 and 100.")


def test_delete_cluster_leaves_it_inactive(ecs: Any, unique: Callable[[str], str]) -> None:
    name = unique("cl")
    ecs.create_cluster(clusterName=name)
    deleted = ecs.delete_cluster(cluster=name)["cluster"]
    assert deleted["status"] == "INACTIVE"
    assert PREFIX + name not in ecs.list_clusters(maxResults=100)["clusterArns"]
    described = ecs.describe_clusters(clusters=[name])
    assert described["clusters"][0]["status"] == "INACTIVE" and described["failures"] == []
    assert error_of(ecs.delete_cluster, cluster=name) == ("ClusterNotFoundException", "Cluster not found.", 400)
    assert ecs.create_cluster(clusterName=name)["cluster"]["status"] == "ACTIVE"


def test_cluster_not_found(ecs: Any, unique: Callable[[str], str]) -> None:
    missing = unique("nope")
    expected = ("ClusterNotFoundException", "Cluster not found.", 400)
    assert error_of(ecs.delete_cluster, cluster=missing) == expected
    assert error_of(ecs.update_cluster_settings, cluster=missing,
                    settings=[{"name": "containerInsights", "value": "enabled"}]) == expected
    assert error_of(ecs.update_cluster, cluster=missing, settings=[]) == expected
    assert error_of(ecs.tag_resource, resourceArn=PREFIX + missing, tags=[{"key": "a", "value": "b"}]) == expected


def test_tag_rules(ecs: Any, unique: Callable[[str], str]) -> None:
    """ECS's own messages for each rule and for the quota (more than 50 tags in one request: the model's
    ValidationException comes first)."""
    arn = ecs.create_cluster(clusterName=unique("cl"), tags=[{"key": "env", "value": "dev"}])["cluster"]["clusterArn"]
    too_many = ("InvalidParameterException", "The number of tags exceeds the limit of 50 tags per resource.", 400)
    reserved = ("InvalidParameterException", "Tag keys can not start with the reserved prefix 'aws:'.", 400)
    empty = ("InvalidParameterException", "Tag keys must be given and can not be empty.", 400)
    assert error_of(ecs.tag_resource, resourceArn=arn, tags=[{"key": "Aws:x", "value": "v"}]) == reserved
    assert error_of(ecs.tag_resource, resourceArn=arn, tags=[{"value": "v"}, {"key": "aws:x"}]) == empty
    assert error_of(ecs.create_cluster, clusterName=unique("cl"), tags=[{"key": "aws:x"}]) == reserved
    ecs.tag_resource(resourceArn=arn, tags=[{"key": f"k{n}", "value": "v"} for n in range(49)])
    assert error_of(ecs.tag_resource, resourceArn=arn, tags=[{"key": "one-more", "value": "v"}]) == too_many
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "prod"}, {"key": "k0"}])  # overwrites: no more
    listed = ecs.list_tags_for_resource(resourceArn=arn)["tags"]
    assert len(listed) == 50
    assert listed[:2] == [{"key": "env", "value": "prod"}, {"key": "k0", "value": ""}]


def test_update_cluster_settings(ecs: Any, unique: Callable[[str], str]) -> None:
    name = unique("cl")
    ecs.create_cluster(clusterName=name)
    updated = ecs.update_cluster_settings(cluster=name, settings=[{"name": "containerInsights", "value": "enhanced"}])
    assert updated["cluster"]["settings"] == [{"name": "containerInsights", "value": "enhanced"}]
    updated = ecs.update_cluster(cluster=PREFIX + name, settings=[{"name": "containerInsights", "value": "enabled"}],
                                 configuration={"executeCommandConfiguration": {"logging": "DEFAULT"}})
    assert updated["cluster"]["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assert updated["cluster"]["configuration"] == {"executeCommandConfiguration": {"logging": "DEFAULT"}}
    described = ecs.describe_clusters(clusters=[name], include=["SETTINGS", "CONFIGURATIONS"])["clusters"][0]
    assert described["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assert described["configuration"]["executeCommandConfiguration"]["logging"] == "DEFAULT"


def test_cluster_tags(ecs: Any, unique: Callable[[str], str]) -> None:
    name = unique("cl")
    arn = ecs.create_cluster(clusterName=name, tags=[{"key": "a", "value": "1"}])["cluster"]["clusterArn"]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}, {"key": "a", "value": "3"}])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "a", "value": "3"},
                                                                   {"key": "b", "value": "2"}]
    ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]
    code, _, status = error_of(ecs.tag_resource, resourceArn=arn,
                               tags=[{"key": f"k{i}", "value": "v"} for i in range(50)])
    assert (code, status) == ("InvalidParameterException", 400)
    assert error_of(ecs.list_tags_for_resource, resourceArn="not-an-arn") == (
        "InvalidParameterException", "Invalid arn syntax.", 400)
