"""How the IAM store binds a list of keys: one JSON array for ``column IN`` (instants and JSON are
:mod:`turnout.store.codec`'s)."""

from __future__ import annotations

import json
from collections.abc import Collection

# ``column IN`` the JSON array bound to the parameter: one statement whatever the number of keys.
IN_JSON = "IN (SELECT value FROM json_each(?))"


def json_keys(keys: Collection[str]) -> str:
    return json.dumps(list(keys))
