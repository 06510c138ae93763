"""The locks (requirements.txt, requirements-bench.txt) are the environment: exact versions with hashes,
consistent with each other and with pyproject.toml's ranges (which a plain ``pip install turnout`` uses), and
installed as locked."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)")


def pins(name: str) -> dict[str, Version]:
    """``name -> version`` of a lock file; asserts every pin carries at least one hash."""
    text = (REPO / name).read_text()
    found: dict[str, Version] = {}
    for block in re.split(r"\n(?=\S)", text):
        match = PIN.match(block)
        if match is None:
            continue
        assert "--hash=sha256:" in block, f"{match.group(1)} has no hash in {name}"
        found[canonicalize_name(match.group(1))] = Version(match.group(2))
    return found


def declared() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [Requirement(r) for r in [*project["dependencies"], *extras["test"], *extras["bench"]]]


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    bench = pins("requirements-bench.txt")
    test = pins("requirements.txt")
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in bench, f"{name} is not in requirements-bench.txt"
        assert requirement.specifier.contains(bench[name]), f"{name}=={bench[name]} is outside {requirement}"
    # The test lock is the bench lock's subset: one version of everything, whichever environment is built.
    assert {name: version for name, version in test.items() if bench.get(name) != version} == {}
    for name in ("pip", "setuptools", "wheel"):  # the installers and backend are locked too
        assert name in test


def test_the_sdks_are_pinned_together() -> None:
    """boto3 requires a botocore range and the lock satisfies it; awscli is pinned in the same lock (awscli 1.44
    and later carry their own copy of botocore, which its version pins)."""
    lock = pins("requirements-bench.txt")
    assert {"botocore", "boto3", "awscli"} <= set(lock)
    for package in ("awscli", "boto3"):
        wanted = [Requirement(r) for r in metadata.requires(package) or []]
        for requirement in wanted:
            if canonicalize_name(requirement.name) in lock and requirement.marker is None:
                name = canonicalize_name(requirement.name)
                assert requirement.specifier.contains(lock[name]), f"{package} wants {requirement}"
    boto3 = [Requirement(r) for r in metadata.requires("boto3") or []]
    assert any(r.name == "botocore" and r.specifier.contains(lock["botocore"]) for r in boto3)


def test_the_environment_is_the_lock() -> None:
    """``make test`` runs in the environment the lock describes (botocore's models are Turnout's wire layer)."""
    lock = pins("requirements.txt")
    for name in ("botocore", "boto3", "awscli", "uvicorn", "pytest", "hypothesis"):
        assert Version(metadata.version(name)) == lock[name], f"{name} is not the locked version: run 'make test'"


def test_the_upper_bounds_keep_botocore_within_its_major_version() -> None:
    [botocore] = [r for r in declared() if r.name == "botocore"]
    assert not botocore.specifier.contains("2.0.0")
    assert botocore.specifier.contains(str(pins("requirements.txt")["botocore"]))


@pytest.mark.slow
def test_the_wheel_carries_its_data_and_declares_ranges(tmp_path: Path) -> None:
    """``pip install turnout`` without the lock: the wheel holds the authorization reference, the managed
    policies and the migrations, and its metadata carries pyproject's ranges."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(tmp_path),
         str(REPO)],
        check=True, capture_output=True, timeout=300,
    )
    [wheel] = tmp_path.glob("turnout-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [meta_name] = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = archive.read(meta_name).decode()
    for data in ("service-authorization.json.gz", "aws-managed-policies.json.gz", "NOTICE"):
        assert f"turnout/data/{data}" in names
    migrations = sorted(REPO.glob("src/turnout/store/migrations/*.sql"))
    assert migrations and all(f"turnout/store/migrations/{m.name}" in names for m in migrations)
    requires = [Requirement(line.split(":", 1)[1].strip()) for line in meta.splitlines()
                if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert {canonicalize_name(r.name): str(r.specifier) for r in requires}["botocore"] == "<2,>=1.40"


def test_uv_lock_holds_the_same_versions() -> None:
    """``uv.lock`` (made by ``make lock`` with the bench lock as its constraints) pins every package at the
    version the pip locks pin: one set of versions, whichever tool builds the environment."""
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    locked = {canonicalize_name(p["name"]): Version(p["version"]) for p in lock["package"]
              if p["name"] != "turnout" and "version" in p}
    bench = pins("requirements-bench.txt")
    assert locked, "uv.lock pins nothing"
    assert {name: (version, bench.get(name)) for name, version in locked.items() if bench.get(name) != version} == {}
