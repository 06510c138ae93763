"""The AWS Regions a SigV4 credential scope may name: the commercial partition's, as botocore's endpoint data
lists them (``endpoints.json``, partition ``aws``), so a newer botocore brings new Regions with it. Turnout's ARNs
are of that partition (``arn:aws:...``); a scope naming another partition's Region, an empty one or anything else
is refused by the authenticate step."""

from __future__ import annotations

from functools import cache

import botocore.loaders


@cache
def known() -> frozenset[str]:
    data = botocore.loaders.create_loader().load_data("endpoints")
    for partition in data["partitions"]:
        if partition["partition"] == "aws":
            return frozenset(partition["regions"])
    raise RuntimeError("botocore's endpoint data has no 'aws' partition")


def exists(region: str) -> bool:
    return region in known()
