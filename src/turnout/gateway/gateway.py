"""The gateway: the chain every request runs, over HTTP or made internally on a principal's behalf.

Steps run in order and may raise :class:`ServiceError`; finalizers always run (serialise, log, record).
Authorization and recording are pluggable so that the IAM policy engine and CloudTrail attach here once,
not inside providers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..auth.credentials import NO_CREDENTIALS, CredentialResolver
from ..auth.ports import KeyUse
from ..authz.resources_base import name_resolvers, resource_tag_lookups
from ..core import ids
from ..core.clock import Clock
from ..core.context import HttpRequest, RequestContext
from ..core.principal import Principal
from ..core.provider import Provider
from ..store import accounts
from ..store.db import Database, WriteNeeded
from ..wire.errors import ServiceError, internal_failure, not_implemented, validation_error
from ..wire.models import SERVICES
from ..wire.restxml import malformed_xml
from ..wire.validate import ENUM_WORDING, validate, violations
from ..wire.validate import message as message_of
from .accesslog import AccessLog
from .authenticate import authenticate
from .protocols import parse_input
from .routing import route

if TYPE_CHECKING:
    from ..authz.ports import Identities
    from ..workers import Worker  # the app layer's: the gateway only reads where its process stands

log = logging.getLogger("turnout.gateway")
access_log = logging.getLogger("turnout.access")

Step = Callable[[RequestContext], None]

# Operations that are dispatched in a read transaction (no lock: other processes' writers do not wait for them,
# nor they for them). One that writes all the same is run again in a write transaction (store/db.py), and started
# in one from then on until a run of it writes nothing.
READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Lookup", "Head", "Simulate", "Search")


def _in_xml_payload(shape: Any, message: str) -> bool:
    """Whether a validation message is about a member of the operation's XML payload (rest-xml)."""
    payload = shape.serialization.get("payload") if shape is not None else None
    if payload is None or shape.members[payload].type_name != "structure":
        return False
    return f"'{payload[:1].lower()}{payload[1:]}" in message


class Authorizer(Protocol):
    def authorize(self, ctx: RequestContext) -> None:
        """Raise a ServiceError (AccessDenied) when the call is not allowed."""


class Recorder(Protocol):
    def record(self, ctx: RequestContext) -> None:
        """Observe a finished call (allowed or denied, succeeded or failed). Must never raise."""


class AllowAll:
    """No authorization: every authenticated call is allowed (``turnout serve --no-enforce-iam``).

    ``turnout serve`` enforces IAM with :class:`turnout.authz.authorizer.PolicyAuthorizer` (see
    ``server.build_gateway``); a bare Gateway, as tests build it, does not.
    """

    def authorize(self, ctx: RequestContext) -> None:
        return None


@dataclass
class Gateway:
    db: Database
    clock: Clock
    authorizer: Authorizer = field(default_factory=AllowAll)
    # IAM's and STS's state as authentication and authorization read it, wired at start (server.build_gateway);
    # a bare gateway knows only the root credentials and no IAM entity.
    credentials: CredentialResolver = NO_CREDENTIALS
    identities: Identities | None = None
    recorders: list[Recorder] = field(default_factory=list)
    providers: dict[str, Provider] = field(default_factory=dict)
    access_log: AccessLog | None = None  # batched access lines (the server's); None: through logging
    lambda_endpoints: dict[str, str] = field(default_factory=dict)  # ``serve --lambda NAME=URL``: hook functions
    on_write: list[Step] = field(default_factory=list)  # run in a write's transaction once its handler succeeded
    before_write: list[Step] = field(default_factory=list)  # run in a write's transaction before its handler
    worker: Worker | None = None  # this process among ``serve --workers N`` (None: the only one)
    _accounts: set[str] = field(default_factory=set)
    _key_use: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    _writers: set[tuple[str, str]] = field(default_factory=set)  # read-named operations seen writing
    _key_lock: threading.Lock = field(default_factory=threading.Lock)  # requests run in several threads

    @property
    def primary(self) -> bool:
        """Whether this process runs the background work (the ECS engine, trail delivery): turnout.workers."""
        return self.worker is None or self.worker.primary

    @property
    def shared(self) -> bool:
        """Whether other processes serve the same database (their writes reach this one through generations)."""
        return self.worker is not None and self.worker.count > 1

    def register(self, provider_cls: Callable[[Gateway], Provider]) -> Provider:
        """Serve a provider's operations, and install the authorizer's hooks it declares (``tag_lookups``,
        ``name_resolvers``); the first registered for a key stays, as a test's own does."""
        provider = provider_cls(self)
        self.providers[provider.service] = provider
        for prefix, lookup in provider.tag_lookups.items():
            resource_tag_lookups.setdefault(prefix, lookup)
        for kind, resolver in provider.name_resolvers.items():
            name_resolvers.setdefault(kind, resolver)
        return provider

    # -- the chain ----------------------------------------------------------------------------------

    def steps(self, internal: bool) -> list[Step]:
        if internal:
            return [self._validate, self._authorize, self._dispatch]
        return [route, authenticate, self._parse, self._authorize, self._dispatch]

    def handle_http(self, http: HttpRequest) -> RequestContext:
        return self.finish_http(self.route_http(http))

    def route_http(self, http: HttpRequest) -> RequestContext:
        """The first step of an HTTP call alone: which service and operation it is (the server decides from it
        where to run the rest); a call that cannot be routed carries its error."""
        ctx = RequestContext(self, ids.request_id(), self.clock.now(), http=http)
        ctx.source_ip = http.client_ip
        ctx.user_agent = http.header("user-agent") or ""
        self._steps(ctx, [route])
        return ctx

    def finish_http(self, ctx: RequestContext) -> RequestContext:
        """The rest of an HTTP call routed by :meth:`route_http`: authenticate, parse, authorize, dispatch, record."""
        self._run(ctx, [] if ctx.error is not None else self.steps(internal=False)[1:])
        return ctx

    def invoke(
        self,
        service: str,
        operation: str,
        params: dict[str, Any],
        principal: Principal,
        *,
        region: str = "us-east-1",
        invoked_by: str | None = None,
        source_ip: str | None = None,
        annotations: dict[str, Any] | None = None,
    ) -> RequestContext:
        """Run an operation as ``principal`` through authorization, dispatch and recording (no HTTP).

        ``annotations`` start the context's annotations (``aws:SourceArn``/``aws:SourceAccount`` of a call a
        service principal makes for a resource: :mod:`turnout.authz.globalkeys`).
        """
        spec = SERVICES[service]
        ctx = RequestContext(self, ids.request_id(), self.clock.now(), service=spec, region=region)
        ctx.operation = spec.operation(operation)
        if ctx.operation is None:
            raise ValueError(f"{service} has no operation {operation}")
        ctx.principal = principal
        ctx.params = params
        ctx.annotations.update(annotations or {})
        ctx.invoked_by = invoked_by
        ctx.source_ip = source_ip or (invoked_by or "AWS Internal")
        ctx.user_agent = invoked_by or "turnout"
        self._run(ctx, self.steps(internal=True))
        return ctx

    def _run(self, ctx: RequestContext, steps: list[Step]) -> None:
        started = time.perf_counter()
        self._steps(ctx, steps)
        ctx.status = ctx.error.status if ctx.error is not None else 200
        ctx.elapsed_ms = (time.perf_counter() - started) * 1000
        if not ctx.recorded:
            self._record(ctx)
        self._log(ctx)

    @staticmethod
    def _steps(ctx: RequestContext, steps: list[Step]) -> None:
        """Run ``steps`` until one fails; its failure becomes the call's error (a 500 for anything unexpected)."""
        try:
            for step in steps:
                step(ctx)
        except ServiceError as exc:
            ctx.error = exc
        except Exception:
            log.exception("request %s failed", ctx.request_id)
            ctx.error = internal_failure()

    def _record(self, ctx: RequestContext) -> None:
        for recorder in self.recorders:
            try:
                recorder.record(ctx)
            except Exception:  # a recorder never fails the call it records
                log.exception("recorder %r failed", recorder)

    def _log(self, ctx: RequestContext) -> None:
        batched = self.access_log
        if batched is None and not access_log.isEnabledFor(logging.INFO):
            return
        service = ctx.service.name if ctx.service is not None else "unknown"
        who = ctx.principal.arn if ctx.principal is not None else "-"
        suffix = f" {ctx.error.code}" if ctx.error is not None else ""
        line = f"{service}.{ctx.operation_name} {ctx.status} {who} {ctx.elapsed_ms:.2f}ms {ctx.request_id}{suffix}"
        if batched is not None:
            batched.write(line)
        else:
            access_log.info("%s", line)

    # -- steps --------------------------------------------------------------------------------------

    def _parse(self, ctx: RequestContext) -> None:
        parse_input(ctx)
        self._validate(ctx)

    def _validate(self, ctx: RequestContext) -> None:
        assert ctx.operation is not None
        shape = ctx.operation.input_shape
        if ctx.protocol != "ec2":
            own = ctx.service.self_checked_enums if ctx.service is not None else ()
            if not own:
                message = validate(shape, ctx.params)
            else:
                message = message_of([p for p in violations(shape, ctx.params)
                                      if ENUM_WORDING not in p or not any(f".{m}'" in p for m in own)])
            if message is not None:
                if ctx.protocol == "rest-xml" and _in_xml_payload(shape, message):
                    raise malformed_xml()  # S3 answers an XML body that breaks its schema so (restxml.py)
                raise validation_error(ctx.protocol, message)
            return
        # EC2 does not use the "validation error detected" form: a missing parameter is MissingParameter naming
        # its wire name, anything else InvalidParameterValue. Its model's enums are documentation, not server
        # constraints (DescribeAccountAttributes takes names its enum lacks), so they are not enforced.
        for name in shape.required_members if shape is not None else ():
            if ctx.params.get(name) is None:
                member = shape.members[name]
                wire = member.serialization.get("queryName") or member.serialization.get("name") or name
                raise ServiceError(
                    "MissingParameter", f"The request must contain the parameter {wire[:1].upper() + wire[1:]}"
                )
        problems = [p for p in violations(shape, ctx.params) if ENUM_WORDING not in p]
        if problems:
            raise ServiceError("InvalidParameterValue", message_of(problems) or "")

    def _authorize(self, ctx: RequestContext) -> None:
        assert ctx.service is not None and ctx.operation is not None
        provider = self.providers.get(ctx.service.name)
        if provider is None or provider.handler(ctx.operation.name) is None:
            # Fail closed before authorization: an operation Turnout does not serve (a newer botocore model may
            # carry operations the bundled authorization reference does not know) is never evaluated, so it can
            # never be granted, whoever asks.
            log.warning("not implemented: %s.%s", ctx.service.name, ctx.operation.name)
            raise not_implemented(ctx.service.name, ctx.operation.name)
        provider.precheck(ctx)
        self.authorizer.authorize(ctx)

    def _dispatch(self, ctx: RequestContext) -> None:
        assert ctx.service is not None and ctx.operation is not None
        provider = self.providers[ctx.service.name]
        handler = provider.handler(ctx.operation.name)
        assert handler is not None  # _authorize answered NotImplemented otherwise
        db = self.db
        key = (ctx.service.name, ctx.operation.name)
        write = not key[1].startswith(READ_ONLY_PREFIXES) or key in self._writers
        # A successful write made over HTTP is recorded in its own transaction: one commit holds the change and its
        # CloudTrail event (the recorder writes it at once). Everything else is recorded by _run after the call.
        own_record = ctx.http is not None and not db.in_transaction
        try:
            with db.transaction(write=write):
                before = db.changes()
                if write:
                    for hook in self.before_write:
                        hook(ctx)
                ctx.result = handler(ctx, ctx.params) or {}
                if write:
                    if db.changes() == before and key in self._writers:
                        self._writers.discard(key)  # it wrote nothing this time: a read transaction next time
                    self._wrote(ctx, own_record)
            ctx.recorded = own_record and write  # committed with its event (a failed commit is recorded by _run)
        except WriteNeeded:
            if db.in_transaction:
                raise  # a call made inside another's read transaction: the outermost one runs again
            self._writers.add(key)
            with db.transaction():
                for hook in self.before_write:
                    hook(ctx)
                ctx.result = handler(ctx, ctx.params) or {}
                self._wrote(ctx, own_record)
            ctx.recorded = own_record

    def _wrote(self, ctx: RequestContext, record: bool) -> None:
        """The end of a successful write's transaction: the ``on_write`` hooks, then (``record``) its event."""
        for hook in self.on_write:
            hook(ctx)
        if record:
            ctx.status = 200
            self._record(ctx)

    # -- bookkeeping shared by steps ------------------------------------------------------------------

    def ensure_account(self, account_id: str) -> None:
        if account_id in self._accounts:
            return
        with self.db.transaction():
            accounts.ensure(self.db, account_id, self.clock.now())
        self._accounts.add(account_id)

    def note_key_used(self, ctx: RequestContext) -> None:
        """Remember when an IAM user's access key was last used; written with the next transaction."""
        principal = ctx.principal
        if principal is None or principal.access_key_id is None or not principal.access_key_id.startswith("AKIA"):
            return  # long-term keys only (an IAM user's or the root user's); STS keys have no last-used record
        service = ctx.service.signing_name if ctx.service is not None else "N/A"
        with self._key_lock:
            first = not self._key_use
            self._key_use[principal.access_key_id] = (ctx.received_at.isoformat(), service, ctx.region)
        if first:
            self.db.defer(self._flush_key_use)  # with the next write transaction (a read stays a read)

    def _flush_key_use(self) -> None:
        with self._key_lock:
            used, self._key_use = self._key_use, {}
        if not used:
            return
        self.credentials.keys.note_keys_used(
            [KeyUse(key, when, svc, region) for key, (when, svc, region) in used.items()]
        )
