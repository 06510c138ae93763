"""The architecture's rules (issue 12), checked over the source tree.

- **One owner per table:** SQL appears only in store modules: the database layer (``turnout/store/``) and each
  service's store (``services/<service>/store.py`` or a ``services/<service>/store/`` package). Other code asks
  the owning store for typed records.
- **authz and auth depend on no service:** they state what they need as protocols that the services implement.

``PENDING`` lists the modules that still break a rule while the move is under way. Each entry must still break it
(an entry that no longer does is stale and must go), and no module outside the list may: the list only shrinks.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "turnout"
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|WITH|CREATE|DROP|ALTER|PRAGMA)\s")

# Modules (relative to src/turnout) with SQL outside a store, until their tables' owners serve them.
PENDING_SQL: frozenset[str] = frozenset()

# authz modules that still import a service, until the service implements a protocol authz declares.
PENDING_AUTHZ_IMPORTS: frozenset[str] = frozenset()


def _modules() -> list[tuple[str, ast.Module]]:
    return [(path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(), str(path)))
            for path in sorted(PACKAGE.rglob("*.py"))]


def is_store(relative: str) -> bool:
    parts = relative.split("/")
    if parts[0] == "store":
        return True
    return parts[0] == "services" and len(parts) >= 3 and (parts[2] == "store.py" or parts[2] == "store")


def has_sql(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value):
            return True
        if isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and SQL.match(first.value):
                return True
    return False


def imports_services(relative: str, tree: ast.Module) -> bool:
    package = relative.split("/")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = [*base, *(node.module.split(".") if node.module else [])]
            else:
                target = (node.module or "").split(".")[1:] if (node.module or "").startswith("turnout") else []
            if target[:1] == ["services"]:
                return True
        elif isinstance(node, ast.Import) and any(alias.name.startswith("turnout.services") for alias in node.names):
            return True
    return False


def test_sql_lives_only_in_store_modules() -> None:
    offenders = {name for name, tree in _modules() if not is_store(name) and has_sql(tree)}
    assert not offenders - PENDING_SQL, f"SQL outside a store module: {sorted(offenders - PENDING_SQL)}"
    assert not PENDING_SQL - offenders, f"no SQL left here, drop from PENDING_SQL: {sorted(PENDING_SQL - offenders)}"


def test_authz_imports_no_service() -> None:
    offenders = {name for name, tree in _modules() if name.startswith("authz/") and imports_services(name, tree)}
    new = offenders - PENDING_AUTHZ_IMPORTS
    assert not new, f"authz imports a service: {sorted(new)}"
    stale = PENDING_AUTHZ_IMPORTS - offenders
    assert not stale, f"no service import left, drop from PENDING_AUTHZ_IMPORTS: {sorted(stale)}"


def test_auth_imports_no_service() -> None:
    # auth states what it needs of IAM and STS as protocols (auth/ports.py), as authz does.
    offenders = {name for name, tree in _modules() if name.startswith("auth/") and imports_services(name, tree)}
    assert not offenders, f"auth imports a service: {sorted(offenders)}"


def test_only_store_modules_import_sqlite() -> None:
    """The store layer is the only code that knows SQLite: others name its errors through ``store.db``."""
    offenders = sorted(
        name for name, tree in _modules() if not is_store(name) and any(
            (isinstance(node, ast.Import) and any(alias.name == "sqlite3" for alias in node.names))
            or (isinstance(node, ast.ImportFrom) and node.module == "sqlite3")
            for node in ast.walk(tree)))
    assert offenders == [], f"sqlite3 imported outside a store: {offenders}"


def test_the_checks_see_what_they_look_for() -> None:
    assert has_sql(ast.parse('x = "SELECT 1"'))
    assert has_sql(ast.parse('x = f"  UPDATE t SET a = {1}"'))
    assert not has_sql(ast.parse('x = "Select a role"'))
    assert imports_services("authz/x.py", ast.parse("from ..services.iam import y"))
    assert imports_services("authz/x.py", ast.parse("from turnout.services.iam import y"))
    assert not imports_services("authz/x.py", ast.parse("from ..policy import y"))
    assert is_store("services/iam/store/roles.py") and is_store("services/ec2/store.py") and is_store("store/db.py")
    assert not is_store("services/iam/roles.py")
