"""Running ``turnout serve``: the start-up checks, then one process answering, or the parent of several workers
(:mod:`turnout.workers`) sharing the listening socket and the database, each running uvicorn with Turnout's
connection protocol (:mod:`turnout.edge.protocol`) and, with several workers, its acceptor (:mod:`turnout.edge.accept`).
The application itself is :mod:`turnout.server`'s."""

from __future__ import annotations

import logging
from typing import Any

from . import __version__
from .edge.accept import Acceptor, BackgroundServer, BalancedServer
from .edge.protocol import TurnoutHttpProtocol
from .gateway.accesslog import AccessLog
from .gateway.gateway import Gateway
from .server import STARTUP_FAILED, TALLIED, App, Settings, build_dataplane, build_gateway
from .store.db import Database, DatabaseError
from .workers import Doorbell, Supervisor, Tally, Worker

log = logging.getLogger("turnout.server")


def serve(settings: Settings) -> None:
    """Run the server until it is stopped. Start-up mistakes (an unusable data directory, one another server is
    using, a port already taken) raise :class:`turnout.startup.StartupError` before anything is logged.

    With ``settings.workers`` above 1 this process becomes the parent of that many workers
    (:mod:`turnout.workers`), which share the listening socket and the database."""
    from .startup import DataDirLock, StartupError, bind, database_error, prepare_data_dir

    prepare_data_dir(settings.data_dir)
    lock = DataDirLock(settings.data_dir).acquire()
    try:
        sock = bind(settings.host, settings.port)
        try:
            if settings.workers <= 1:
                try:
                    gateway = build_gateway(settings)
                except DatabaseError as exc:
                    raise database_error(settings.data_dir, exc) from None
                _announce(settings)
                if not _run_uvicorn(gateway, settings, sock):
                    raise StartupError("the server did not start (see the log above)")
                return
            try:
                Database(settings.data_dir / "turnout.db").close()  # migrations, once, before the workers
                from .services import registry

                registry.providers()  # imported once, here: the forked workers inherit them (~150 modules)
            except DatabaseError as exc:
                raise database_error(settings.data_dir, exc) from None
            _announce(settings)

            tally = Tally(settings.workers + 1, TALLIED)  # the workers' rows, then the background process's
            doorbell = Doorbell()  # the workers wake the background process's engine through it

            def run_worker(index: int) -> int:
                worker = Worker(index, settings.workers, settings.data_dir, tally, doorbell)
                gateway = build_gateway(settings, worker=worker)
                return 0 if _run_uvicorn(gateway, settings, sock) else STARTUP_FAILED

            if Supervisor(settings.workers + 1, run_worker).run() != 0:
                raise StartupError("the workers did not start (see the log above)")
        finally:
            sock.close()
    finally:
        lock.release()


def _announce(settings: Settings) -> None:
    workers = f", {settings.workers} workers and a background process" if settings.workers > 1 else ""
    log.info("Turnout %s on http://%s:%d (data in %s%s)", __version__, settings.host, settings.port,
             settings.data_dir, workers)
    if settings.dataplane:
        log.info("Data plane: listeners and task processes on %s (GET /_turnout/dataplane lists them)",
                 settings.dataplane_host)
    for name, url in sorted(settings.lambdas.items()):
        log.info("Lambda function %s (lifecycle hooks) -> %s", name, url)


def _run_uvicorn(gateway: Gateway, settings: Settings, sock: Any) -> bool:
    """Serve on ``sock`` until stopped; False when the server did not start."""
    import uvicorn

    if logging.getLogger("turnout.access").isEnabledFor(logging.INFO):
        gateway.access_log = AccessLog()
    app = App(gateway, settings.limits, build_dataplane(gateway, settings))
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="auto",
        http=TurnoutHttpProtocol,  # httptools, with header limits and idle/slow-client timeouts
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=True,
        proxy_headers=False,  # callers are who connect: no X-Forwarded-For rewriting of aws:SourceIp
    )
    worker = gateway.worker
    tally = worker.tally if worker is not None else None
    server: uvicorn.Server
    if worker is not None and worker.primary:
        server = BackgroundServer(config)  # the application's background work, no connection (turnout.workers)
    elif worker is not None and worker.count > 1 and tally is not None:
        # Each connection to the worker holding the fewest (turnout.edge.accept); its predecessor's died with it.
        index, workers = worker.index, worker.count
        tally.set(index, "connections", 0)
        tally.set(index, "quiet", 0)
        server = BalancedServer(config, Acceptor(
            sock, index, lambda: tally.each("connections")[:workers],
            lambda change: tally.add(index, "connections", change),
            quiet=lambda: tally.each("quiet")[:workers], add_quiet=lambda change: tally.add(index, "quiet", change),
        ))
    else:
        server = uvicorn.Server(config)
    server.run(sockets=[sock])  # the socket bound above: the port is known to be ours before the log line
    return bool(server.started)
