"""A fresh database for the IAM store's tests (migrations applied), one transaction per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from turnout.store.db import Database


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "iam.db")
    with database.transaction():
        yield database
    database.close()
