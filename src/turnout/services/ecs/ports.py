"""What the ECS API needs from the deployment engine, stated as a protocol: ``server.build_gateway`` builds the
engine (:mod:`turnout.deploy`) and hands it to the provider (``EcsProvider.engine``), so ``services`` never imports
``deploy``.

The API writes rows (a new deployment, a stop or rollback request, new tasks) in the request's transaction and
wakes the engine; the engine acts on them on the clock, through the gateway as the assumed role.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class DeploymentEngine(Protocol):
    """The engine as the ECS API sees it."""

    def start(self) -> None:
        """Resume every unfinished deployment and task transition (server startup, in the background process of
        :mod:`turnout.workers`)."""
        ...

    def wake(self, deployment_arn: str | None = None) -> None:
        """Something changed (with ``deployment_arn``: that deployment's; run it now whatever its wait): act once
        the current request's transaction has committed."""
        ...

    def continue_hook(self, account: str, region: str, deployment_arn: str, hook_id: str, action: str,
                      at: datetime) -> bool:
        """Resolve the deployment's AWAITING_ACTION pause hook ``hook_id`` (ContinueServiceDeployment: ``action``
        CONTINUE or ROLLBACK) in the current transaction; False when there is no such hook awaiting action."""
        ...


class Unwired:
    """A bare gateway's (tests build one without ``server.build_gateway``): no engine runs."""

    def start(self) -> None:
        raise LookupError("no deployment engine is wired (server.build_gateway wires it)")

    def wake(self, deployment_arn: str | None = None) -> None:
        raise LookupError("no deployment engine is wired (server.build_gateway wires it)")

    def continue_hook(self, account: str, region: str, deployment_arn: str, hook_id: str, action: str,
                      at: datetime) -> bool:
        raise LookupError("no deployment engine is wired (server.build_gateway wires it)")
