"""Print pip's pin in a PEP 751 lock (``pylock*.toml``) as a hash-checked requirement line.

A new virtual environment comes with the Python's own pip, which may be too old to read a ``pylock.toml``; the
Makefile installs the locked pip first from this line (``--require-hashes``), then the lock with it.
Usage: ``python tools/locked_pip.py pylock.toml > pip.txt``.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path


def pip_line(lock_path: Path) -> str:
    lock = tomllib.loads(lock_path.read_text())
    [pip] = [package for package in lock["packages"] if package["name"] == "pip"]
    files = [*pip.get("wheels", []), *([pip["sdist"]] if "sdist" in pip else [])]
    hashes = " ".join(f"--hash=sha256:{entry['hashes']['sha256']}" for entry in files)
    return f"pip=={pip['version']} {hashes}"


if __name__ == "__main__":
    print(pip_line(Path(sys.argv[1])))
