"""Listeners: CreateListener, DescribeListeners, ModifyListener, DeleteListener and their attributes.

A listener's protocol must suit its load balancer (HTTP/HTTPS on application, TCP/TLS/UDP/TCP_UDP on network
load balancers); HTTPS and TLS listeners have a default certificate (see ``certificates.py``) and a security
policy (``account.SSL_POLICIES``). Every listener has a default rule (``IsDefault``, priority ``default``) whose
actions are the listener's default actions: CreateListener makes it, ModifyListener rewrites its actions with the
default actions, DeleteListener removes it with the listener's other rules (the store keeps the two equal).
:attr:`Listener.extra <.store.Listener.extra>` holds the certificates, security and ALPN policies, mutual TLS mode
and attributes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...core import arns, ids
from ...core.context import RequestContext
from ...store.db import Database
from . import describe
from .account import DEFAULT_SSL_POLICY, SSL_POLICIES
from .actions import check_target_groups, normalise_actions
from .attributes import Spec, boolean, defaults, integer, listed, text
from .certificates import SECURE, check_certificate
from .errors import error, invalid_config, trust_store_not_found, validation
from .store import (
    Listener,
    LoadBalancer,
    add_listener,
    count_listeners,
    delete_listener,
    get_listener,
    get_load_balancer,
    listener_on_port,
    listeners_of,
    update_listener,
    update_listener_extra,
)
from .tags import check_new_tags, put_tags

LISTENERS_PER_LOAD_BALANCER = 50  # "listeners-per-application-load-balancer" (and per network load balancer)
# The order AWS's "must be one of" messages list them in.
PROTOCOLS = {"application": ("HTTP", "HTTPS"), "network": ("TLS", "TCP", "TCP_UDP", "UDP")}
ALPN_POLICIES = ("HTTP1Only", "HTTP2Only", "HTTP2Optional", "HTTP2Preferred", "None")
MTLS_MODES = ("off", "passthrough", "verify")
_RESPONSE_HEADERS = ("strict_transport_security", "access_control_allow_origin", "access_control_allow_methods",
                     "access_control_allow_headers", "access_control_allow_credentials",
                     "access_control_expose_headers", "access_control_max_age", "content_security_policy",
                     "x_content_type_options", "x_frame_options")
_MTLS_HEADERS = {"x_amzn_mtls_clientcert_serial_number": "X-Amzn-Mtls-Clientcert-Serial-Number",
                 "x_amzn_mtls_clientcert_issuer": "X-Amzn-Mtls-Clientcert-Issuer",
                 "x_amzn_mtls_clientcert_subject": "X-Amzn-Mtls-Clientcert-Subject",
                 "x_amzn_mtls_clientcert_validity": "X-Amzn-Mtls-Clientcert-Validity",
                 "x_amzn_mtls_clientcert_leaf": "X-Amzn-Mtls-Clientcert-Leaf",
                 "x_amzn_mtls_clientcert": "X-Amzn-Mtls-Clientcert",
                 "x_amzn_tls_version": "X-Amzn-Tls-Version",
                 "x_amzn_tls_cipher_suite": "X-Amzn-Tls-Cipher-Suite"}


def attribute_specs(lb_type: str, protocol: str) -> dict[str, Spec]:
    """The listener attributes the reference documents for the listener's load balancer type and protocol (the
    header names default to the headers' own names; response header values to empty, i.e. not added)."""
    if lb_type == "network":
        return {} if protocol == "UDP" else {"tcp.idle_timeout.seconds": Spec("350", integer(60, 6000))}
    specs = {"routing.http.response.server.enabled": Spec("true", boolean)}
    specs.update({f"routing.http.response.{name}.header_value": Spec("", text) for name in _RESPONSE_HEADERS})
    if protocol == "HTTPS":
        specs.update({f"routing.http.request.{key}.header_name": Spec(header, text)
                      for key, header in _MTLS_HEADERS.items()})
    return specs


def shape(listener: Listener) -> dict[str, Any]:
    """The ``Listener`` structure."""
    extra = listener.extra
    out: dict[str, Any] = {"ListenerArn": listener.arn, "LoadBalancerArn": listener.load_balancer_arn,
                           "Port": listener.port, "Protocol": listener.protocol}
    if extra.get("Certificates"):
        out["Certificates"] = extra["Certificates"]
    if extra.get("SslPolicy"):
        out["SslPolicy"] = extra["SslPolicy"]
    out["DefaultActions"] = listener.default_actions
    if extra.get("AlpnPolicy"):
        out["AlpnPolicy"] = extra["AlpnPolicy"]
    if extra.get("MutualAuthentication"):
        out["MutualAuthentication"] = extra["MutualAuthentication"]
    return out


def check_protocol(lb: LoadBalancer, protocol: str | None) -> str:
    if protocol is None:
        raise validation("A listener protocol must be specified")  # our wording
    allowed = PROTOCOLS.get(lb.type, ())
    if protocol not in allowed:
        raise validation(f"Listener protocol '{protocol}' must be one of '{', '.join(allowed)}'")
    if protocol in ("UDP", "TCP_UDP") and lb.ip_address_type != "ipv4":
        # The reference: "You can't specify the UDP or TCP_UDP protocol if dual-stack mode is enabled." Our wording.
        raise invalid_config(f"Listener protocol '{protocol}' is not supported by dual-stack load balancers")
    return protocol


def _security(protocol: str, req: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """The listener's ``extra`` for ``protocol``: what ``req`` sets, else what the listener had (``before``) when it
    still applies (ModifyListener from HTTPS to HTTP drops the certificate and policy, as the reference says)."""
    extra: dict[str, Any] = {key: before[key] for key in ("Attributes",) if key in before}
    certs = req.get("Certificates")
    policy = req.get("SslPolicy")
    if protocol in SECURE:
        certs = certs if certs is not None else before.get("Certificates")
        if not certs:
            raise validation(f"A certificate must be specified for {protocol} listeners")
        if len(certs) > 1:
            # The reference: "You must provide exactly one certificate." Our wording.
            raise validation(f"You must specify exactly one default certificate for {protocol} listeners; add "
                             "others with AddListenerCertificates")
        extra["Certificates"] = [{"CertificateArn": check_certificate(certs[0].get("CertificateArn"))}]
        policy = policy or before.get("SslPolicy") or DEFAULT_SSL_POLICY
        if policy not in SSL_POLICIES:
            raise error("SSLPolicyNotFound", f"SSL policy '{policy}' not found")  # our wording, after the model
        extra["SslPolicy"] = policy
        if before.get("ExtraCertificates"):
            extra["ExtraCertificates"] = before["ExtraCertificates"]
    else:
        if policy:
            # AWS's wording, its typo ("specifed") included.
            raise validation(f"An SSL policy cannot be specifed for {protocol} listeners")
        if certs:
            raise validation(f"A certificate cannot be specified for {protocol} listeners")  # our wording
    alpn = req.get("AlpnPolicy")
    if alpn:
        if protocol != "TLS":
            raise validation(f"An ALPN policy cannot be specified for {protocol} listeners")  # our wording
        if len(alpn) != 1 or alpn[0] not in ALPN_POLICIES:
            raise error("ALPNPolicyNotFound", f"ALPN policy '{', '.join(alpn)}' not found")  # our wording
        extra["AlpnPolicy"] = list(alpn)
    elif protocol == "TLS" and before.get("AlpnPolicy"):
        extra["AlpnPolicy"] = before["AlpnPolicy"]
    mutual = req.get("MutualAuthentication")
    if mutual is not None:
        if protocol != "HTTPS":
            raise validation(f"Mutual authentication cannot be configured for {protocol} listeners")  # our wording
        if mutual.get("TrustStoreArn"):
            raise trust_store_not_found()  # Turnout has no trust stores
        mode = mutual.get("Mode") or "off"
        if mode not in MTLS_MODES:
            raise validation(f"Mutual authentication mode '{mode}' must be one of '{', '.join(MTLS_MODES)}'")  # ours
        if mode == "verify":
            raise validation("A trust store must be specified for mutual authentication mode 'verify'")  # ours
        extra["MutualAuthentication"] = {"Mode": mode}
    elif protocol == "HTTPS" and before.get("MutualAuthentication"):
        extra["MutualAuthentication"] = before["MutualAuthentication"]
    return extra


def _same(existing: Listener, protocol: str, extra: dict[str, Any], actions: list[dict[str, Any]]) -> bool:
    """Whether CreateListener asks for the listener that exists on the port ("each call succeeds")."""
    keys = ("Certificates", "SslPolicy", "AlpnPolicy", "MutualAuthentication")
    return bool(existing.protocol == protocol and existing.default_actions == actions
                and all(existing.extra.get(key) == extra.get(key) for key in keys))


class ListenerOperations:
    """Mixed into :class:`Elbv2Provider`."""

    db: Database

    def create_listener(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        lb = get_load_balancer(self.db, account, region, req["LoadBalancerArn"])
        protocol = check_protocol(lb, req.get("Protocol"))
        port = req.get("Port")
        if port is None:
            raise validation("A listener port must be specified")  # our wording
        extra = _security(protocol, req, {})
        actions = normalise_actions(req.get("DefaultActions"), lb.type)
        tags = req.get("Tags") or []
        check_new_tags(tags)
        existing = listener_on_port(self.db, account, region, lb.arn, port)
        if existing is not None:
            if _same(existing, protocol, extra, actions):
                return {"Listeners": [shape(existing)]}
            raise error("DuplicateListener",
                        f"A listener already exists on this port for this load balancer '{lb.arn}'")
        if count_listeners(self.db, account, region, lb.arn) >= LISTENERS_PER_LOAD_BALANCER:
            raise error("TooManyListeners", "You've reached the limit on the number of listeners per load balancer.")
        check_target_groups(self.db, lb, protocol, actions)
        arn = arns.elb_listener(lb.arn, ids.hex_id(16))
        add_listener(self.db, Listener(account_id=account, region=region, arn=arn, load_balancer_arn=lb.arn,
                                       port=port, protocol=protocol, default_actions=actions, extra=extra,
                                       created_at=ctx.received_at),
                     default_rule_arn=arns.elb_listener_rule(arn, ids.hex_id(16)))
        put_tags(self.db, account, region, arn, tags)
        return {"Listeners": [shape(get_listener(self.db, account, region, arn))]}

    def describe_listeners(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        lb_arn = req.get("LoadBalancerArn")
        listener_arns = req.get("ListenerArns") or []
        if lb_arn and listener_arns:
            raise validation("Listener ARNs and a load balancer ARN cannot be specified at the same time")  # ours
        if listener_arns:
            found = [get_listener(self.db, account, region, arn) for arn in dict.fromkeys(listener_arns)]
        elif lb_arn:
            lb = get_load_balancer(self.db, account, region, lb_arn)
            found = listeners_of(self.db, account, region, lb.arn)
        else:
            raise validation("You must specify either listener ARNs or a load balancer ARN")  # our wording
        result = describe.paged(found, lambda listener: f"{listener.port or 0:05d} {listener.arn}", req, "Listeners")
        result["Listeners"] = [shape(listener) for listener in result["Listeners"]]
        return result

    def modify_listener(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        listener = get_listener(self.db, account, region, req["ListenerArn"])
        lb = get_load_balancer(self.db, account, region, listener.load_balancer_arn)
        protocol = check_protocol(lb, req.get("Protocol") or listener.protocol)
        port = req.get("Port") or listener.port
        if port != listener.port and listener_on_port(self.db, account, region, lb.arn, port) is not None:
            raise validation(f"Listener port '{port}' is already in use")
        extra = _security(protocol, req, listener.extra)
        given = req.get("DefaultActions")
        actions = normalise_actions(given, lb.type) if given is not None else listener.default_actions
        check_target_groups(self.db, lb, protocol, actions)
        specs = attribute_specs(lb.type, protocol)
        extra["Attributes"] = {key: value for key, value in (extra.get("Attributes") or {}).items() if key in specs}
        update_listener(self.db, replace(listener, port=port, protocol=protocol, default_actions=actions,
                                         extra=extra))
        return {"Listeners": [shape(get_listener(self.db, account, region, listener.arn))]}

    def delete_listener(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        listener = get_listener(self.db, account, region, req["ListenerArn"])
        delete_listener(self.db, account, region, listener.arn)
        return {}

    # -- attributes ------------------------------------------------------------------------------------------

    def _attributes(self, ctx: RequestContext, arn: str) -> tuple[Listener, dict[str, Spec], dict[str, str]]:
        listener = get_listener(self.db, ctx.account_id, ctx.region, arn)
        lb = get_load_balancer(self.db, ctx.account_id, ctx.region, listener.load_balancer_arn)
        specs = attribute_specs(lb.type, listener.protocol or "")
        stored = listener.extra.get("Attributes") or {}
        return listener, specs, {**defaults(specs), **{k: v for k, v in stored.items() if k in specs}}

    def describe_listener_attributes(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        _, _, values = self._attributes(ctx, req["ListenerArn"])
        return {"Attributes": listed(values)}

    def modify_listener_attributes(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        listener, specs, values = self._attributes(ctx, req["ListenerArn"])
        for item in req["Attributes"]:
            key, value = item.get("Key"), item.get("Value")
            if not isinstance(key, str) or key not in specs:
                # Our wording, as for load balancer and target group attributes.
                raise validation(f"Listener attribute key '{key}' is not recognized")
            value = value if isinstance(value, str) else ""
            expected = specs[key].check(value)
            if expected is not None:
                raise validation(f"Listener attribute '{key}' value '{value}' is not valid: it must be {expected}")
            values[key] = value
        update_listener_extra(self.db, replace(listener, extra={**listener.extra, "Attributes": values}))
        return {"Attributes": listed(values)}
