"""Listener certificates: the default certificate of HTTPS and TLS listeners (set by CreateListener and
ModifyListener) and the certificate list (AddListenerCertificates, RemoveListenerCertificates,
DescribeListenerCertificates).

Turnout has no ACM: any ARN shaped like an ACM certificate (``arn:aws:acm:<region>:<account>:certificate/<id>``) or
an IAM server certificate (``arn:aws:iam::<account>:server-certificate/<name>``) is accepted as an existing
certificate; anything else is CertificateNotFound. Nothing is served with it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ...core.context import RequestContext
from ...store.db import Database
from . import describe
from .errors import error, invalid_config
from .store import get_listener, update_listener_extra

CERTIFICATES_PER_LISTENER = 25  # "certificates per load balancer (not counting default certificates)"
SECURE = frozenset({"HTTPS", "TLS"})
_ACM = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")
_IAM = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:server-certificate/[\w+=,.@/-]+$")


def check_certificate(arn: Any) -> str:
    """``arn`` if it names a certificate (see the module's note), else CertificateNotFound."""
    if not isinstance(arn, str) or not (_ACM.match(arn) or _IAM.match(arn)):
        raise error("CertificateNotFound", f"Certificate '{arn}' not found")
    return arn


class CertificateOperations:
    """Mixed into :class:`Elbv2Provider`."""

    db: Database

    def describe_listener_certificates(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        extra = get_listener(self.db, ctx.account_id, ctx.region, req["ListenerArn"]).extra
        # The reference: the default certificate appears with IsDefault true, the list's with IsDefault false.
        items = [{"CertificateArn": cert["CertificateArn"], "IsDefault": True}
                 for cert in extra.get("Certificates", [])]
        items += [{"CertificateArn": arn, "IsDefault": False} for arn in extra.get("ExtraCertificates", [])]
        numbered = [(f"{index:04d}", item) for index, item in enumerate(items)]
        result = describe.paged(numbered, lambda pair: pair[0], req, "Certificates")
        result["Certificates"] = [item for _, item in result["Certificates"]]
        return result

    def add_listener_certificates(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        listener = get_listener(self.db, ctx.account_id, ctx.region, req["ListenerArn"])
        if listener.protocol not in SECURE:
            raise invalid_config(f"Certificates cannot be added to {listener.protocol} listeners; only HTTPS and TLS "
                                 "listeners have certificates")  # our wording
        listed: list[str] = list(listener.extra.get("ExtraCertificates", []))
        added = [check_certificate(cert.get("CertificateArn")) for cert in req["Certificates"]]
        for arn in added:
            if arn not in listed:  # "the call is successful but the certificate is not added again"
                listed.append(arn)
        if len(listed) > CERTIFICATES_PER_LISTENER:
            raise error("TooManyCertificates", "You've reached the limit on the number of certificates per load "
                                               "balancer.")
        update_listener_extra(self.db, replace(listener, extra={**listener.extra, "ExtraCertificates": listed}))
        return {"Certificates": [{"CertificateArn": arn, "IsDefault": False} for arn in dict.fromkeys(added)]}

    def remove_listener_certificates(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        listener = get_listener(self.db, ctx.account_id, ctx.region, req["ListenerArn"])
        extra = listener.extra
        default = {cert["CertificateArn"] for cert in extra.get("Certificates", [])}
        removed = {cert.get("CertificateArn") for cert in req["Certificates"]}
        if removed & default or any(cert.get("IsDefault") for cert in req["Certificates"]):
            # Our wording: the default certificate is replaced with ModifyListener, never removed.
            raise error("OperationNotPermitted", "The default certificate of a listener cannot be removed; use "
                                                 "ModifyListener to replace it")
        kept = [arn for arn in extra.get("ExtraCertificates", []) if arn not in removed]
        update_listener_extra(self.db, replace(listener, extra={**extra, "ExtraCertificates": kept}))
        return {}
