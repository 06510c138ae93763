"""Account-level reads: DescribeAccountLimits (AWS's default quotas) and DescribeSSLPolicies (a static catalogue of
the security policies most used, with their protocols and ciphers as the ELB guides list them)."""

from __future__ import annotations

from typing import Any

from ...core.context import RequestContext
from . import describe
from .errors import error

# The limit names of the ``Limit`` reference, with AWS's default quotas.
LIMITS = (
    ("application-load-balancers", 50),
    ("condition-values-per-alb-rule", 5),
    ("condition-wildcards-per-alb-rule", 5),
    ("gateway-load-balancers", 100),
    ("gateway-load-balancers-per-vpc", 100),
    ("geneve-target-groups", 100),
    ("listeners-per-application-load-balancer", 50),
    ("listeners-per-network-load-balancer", 50),
    ("network-load-balancers", 50),
    ("rules-per-application-load-balancer", 100),
    ("target-groups", 3000),
    ("target-groups-per-action-on-application-load-balancer", 5),
    ("target-groups-per-action-on-network-load-balancer", 1),
    ("target-groups-per-application-load-balancer", 100),
    ("targets-per-application-load-balancer", 1000),
    ("targets-per-availability-zone-per-gateway-load-balancer", 300),
    ("targets-per-availability-zone-per-network-load-balancer", 500),
    ("targets-per-network-load-balancer", 3000),
)

_TLS13 = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
_ECDHE_GCM = ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
              "ECDHE-RSA-AES256-GCM-SHA384")
_ECDHE_12 = ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA256",
             "ECDHE-RSA-AES128-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
             "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384")
_RSA_12 = ("AES128-GCM-SHA256", "AES128-SHA256", "AES256-GCM-SHA384", "AES256-SHA256")

# name -> (protocols, ciphers in priority order)
SSL_POLICIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ELBSecurityPolicy-TLS13-1-2-2021-06": (("TLSv1.2", "TLSv1.3"), _TLS13 + _ECDHE_12),
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06": (("TLSv1.2", "TLSv1.3"), _TLS13 + _ECDHE_GCM),
    "ELBSecurityPolicy-TLS13-1-3-2021-06": (("TLSv1.3",), _TLS13),
    "ELBSecurityPolicy-TLS-1-2-2017-01": (("TLSv1.2",), _ECDHE_12 + _RSA_12),
    "ELBSecurityPolicy-FS-1-2-Res-2020-10": (("TLSv1.2",), _ECDHE_GCM),
    "ELBSecurityPolicy-2016-08": (
        ("TLSv1", "TLSv1.1", "TLSv1.2"),
        ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA256",
         "ECDHE-RSA-AES128-SHA256", "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES256-GCM-SHA384",
         "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA",
         "ECDHE-ECDSA-AES256-SHA", "AES128-GCM-SHA256", "AES128-SHA256", "AES128-SHA", "AES256-GCM-SHA384",
         "AES256-SHA256", "AES256-SHA"),
    ),
}
# The policy an HTTPS or TLS listener gets when it names none (AWS's default since 2023).
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def ssl_policy_shape(name: str) -> dict[str, Any]:
    protocols, ciphers = SSL_POLICIES[name]
    return {
        "SslProtocols": list(protocols),
        "Ciphers": [{"Name": cipher, "Priority": index} for index, cipher in enumerate(ciphers, start=1)],
        "Name": name,
        "SupportedLoadBalancerTypes": ["application", "network"],
    }


class AccountOperations:
    """Mixed into :class:`Elbv2Provider`."""

    def describe_account_limits(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        numbered = [(f"{index:04d}", name, value) for index, (name, value) in enumerate(LIMITS)]
        result = describe.paged(numbered, lambda item: item[0], req, "Limits")
        result["Limits"] = [{"Name": name, "Max": str(value)} for _, name, value in result["Limits"]]
        return result

    def describe_ssl_policies(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        names = list(dict.fromkeys(req.get("Names") or []))
        if any(name not in SSL_POLICIES for name in names):
            raise error("SSLPolicyNotFound", "One or more SSL policies not found")  # our wording, after the model
        chosen = names or list(SSL_POLICIES)
        if req.get("LoadBalancerType") == "gateway":
            chosen = []
        result = describe.paged(chosen, lambda name: name, req, "SslPolicies")
        result["SslPolicies"] = [ssl_policy_shape(name) for name in result["SslPolicies"]]
        return result
