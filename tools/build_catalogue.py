"""Build ``src/turnout/data/aws-managed-policies.json.gz``, the AWS managed policy catalogue Turnout serves.

Usage (from the repository root)::

    python tools/build_catalogue.py [--shared ../shared/data] [--out src/turnout/data/aws-managed-policies.json.gz]

Inputs (read-only, see their READMEs and ``src/turnout/data/NOTICE``):

* ``aws-iam/aws-managed-policies.json`` (zoph-io/MAMIP): every listed policy with its metadata and the exact
  default-version document, plus the deprecated policies.
* ``aws-iam/aws-managed-policies.newer-from-iam-dataset.json`` (iann0036/iam-dataset): newer default versions
  of listed policies and policies created since; preferred where their default version is newer.
* ``aws-managed-policies/AmazonECSInfrastructureRolePolicyForLoadBalancers.versions.json``: every observed
  version of that policy, with its description.

Output: gzip JSON (mtime 0, so rebuilding the same inputs gives the same bytes)::

    {"format": 1, "sources": [...],
     "policies": [{"name", "path", "id", "default", "attachable", "created", "updated", "description"?,
                   "versions": [{"id", "created", "document"}, ...]}, ...],        # ListPolicies order
     "deprecated": [{"name", "id", "default", "created", "document"}, ...]}

Documents are stored as the JSON text GetPolicyVersion returns: the source's key order kept, 4-space indent
(the layout of the AWS managed policy documents as AWS serves them).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = ROOT.parent / "shared" / "data"
DEFAULT_OUT = ROOT / "src" / "turnout" / "data" / "aws-managed-policies.json.gz"
VERSIONED = "AmazonECSInfrastructureRolePolicyForLoadBalancers"


def timestamp(text: str) -> str:
    """Any ISO 8601 form of the sources -> ``YYYY-MM-DDTHH:MM:SSZ``."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def document_text(document: Any) -> str:
    return json.dumps(document, indent=4, ensure_ascii=False)


def version_number(version_id: str) -> int:
    return int(version_id[1:].split(".", 1)[0])


def synthetic_id(arn: str) -> str:
    """A stable ``ANPA`` id for a policy whose real id no source records (same length and alphabet as AWS's)."""
    digest = hashlib.sha256(f"turnout:aws-managed-policy:{arn}".encode()).digest()
    return "ANPA" + base64.b32encode(digest).decode()[:17]


def path_of(arn: str) -> str:
    resource = arn.split(":policy", 1)[1]
    return resource.rsplit("/", 1)[0] + "/"


def build(shared: Path) -> dict[str, Any]:
    main = json.loads((shared / "aws-iam" / "aws-managed-policies.json").read_text())
    newer = json.loads((shared / "aws-iam" / "aws-managed-policies.newer-from-iam-dataset.json").read_text())
    versioned = json.loads((shared / "aws-managed-policies" / f"{VERSIONED}.versions.json").read_text())

    policies: list[dict[str, Any]] = []
    index: dict[str, dict[str, Any]] = {}
    for source in main["policies"]:
        entry = {
            "name": source["PolicyName"],
            "path": source["Path"],
            "id": source["PolicyId"],
            "default": source["DefaultVersionId"],
            "attachable": bool(source["IsAttachable"]),
            "created": timestamp(source["CreateDate"]),
            "updated": timestamp(source["UpdateDate"]),
            "versions": [{
                "id": source["DefaultVersionId"],
                "created": timestamp(source["DefaultVersionCreateDate"]),
                "document": document_text(source["Document"]),
            }],
        }
        assert source["Arn"] == f"arn:aws:iam::aws:policy{entry['path']}{entry['name']}", source["Arn"]
        policies.append(entry)
        index[entry["name"]] = entry

    created_later: list[dict[str, Any]] = []
    for source in newer["policies"]:
        name = source["PolicyName"]
        version = {
            "id": source["DefaultVersionId"],
            "created": timestamp(source["DefaultVersionCreateDate"]),
            "document": document_text(source["Document"]),
        }
        existing = index.get(name)
        if existing is not None:
            if version_number(version["id"]) > version_number(existing["default"]):
                existing["default"] = version["id"]
                existing["updated"] = timestamp(source["UpdateDate"])
                existing["versions"] = [version]
            continue
        # A policy created after the MAMIP snapshot: the source has no id and no creation date. The id is
        # synthetic (stable); the creation date is the default version's, exact when that version is v1.
        entry = {
            "name": name,
            "path": path_of(source["Arn"]),
            "id": synthetic_id(source["Arn"]),
            "default": version["id"],
            "attachable": True,
            "created": version["created"],
            "updated": timestamp(source["UpdateDate"]),
            "versions": [version],
        }
        created_later.append(entry)
        index[name] = entry
    created_later.sort(key=lambda e: (e["created"], e["name"]))
    policies.extend(created_later)

    # Every observed version of the ECS infrastructure policy for load balancers, newest first.
    target = index[VERSIONED]
    observed = sorted(versioned["Versions"], key=lambda v: version_number(v["VersionId"]), reverse=True)
    if version_number(observed[0]["VersionId"]) >= version_number(target["default"]):
        target["default"] = versioned["DefaultVersionId"]
        target["created"] = timestamp(versioned["CreateDate"])
        target["updated"] = timestamp(versioned["UpdateDate"])
        target["versions"] = [
            {"id": v["VersionId"], "created": timestamp(v["CreateDate"]), "document": document_text(v["Document"])}
            for v in observed
        ]
    target["description"] = versioned["Description"]

    deprecated: list[dict[str, Any]] = []
    for source in main["deprecated_policies"]:
        name = source["PolicyName"]
        if "Document" not in source or name in index or name.endswith(".json"):
            continue  # no document, superseded by a listed policy, or a stray file name in the source
        deprecated.append({
            "name": name,
            "id": synthetic_id(f"arn:aws:iam::aws:policy/{name}"),
            "default": source["LastKnownVersionId"],
            "created": timestamp(source["LastKnownVersionCreateDate"]),
            "document": document_text(source["Document"]),
        })
    deprecated.sort(key=lambda e: e["name"])

    for entry in policies:
        default = [v for v in entry["versions"] if v["id"] == entry["default"]]
        assert len(default) == 1, entry["name"]

    return {
        "format": 1,
        "sources": [
            {"file": "aws-iam/aws-managed-policies.json", "origin": main["source"], "commit": main["commit"],
             "licence": main["license"]},
            {"file": "aws-iam/aws-managed-policies.newer-from-iam-dataset.json", "origin": newer["source"],
             "commit": newer["commit"], "licence": newer["license"]},
            {"file": f"aws-managed-policies/{VERSIONED}.versions.json", "origin": versioned["source"]},
        ],
        "policies": policies,
        "deprecated": deprecated,
    }


def write(catalogue: dict[str, Any], out: Path) -> None:
    payload = json.dumps(catalogue, ensure_ascii=False, separators=(",", ":")).encode()
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as stream:
        stream.write(payload)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared data directory")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    catalogue = build(args.shared)
    write(catalogue, args.out)
    print(f"{args.out}: {len(catalogue['policies'])} policies, {len(catalogue['deprecated'])} deprecated, "
          f"{args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
