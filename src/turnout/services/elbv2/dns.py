"""Load balancer DNS names and the Route 53 hosted zone ids AWS publishes for them.

Product decision: a load balancer's ``DNSName`` is ``<name>-<id>.<region>.elb.localhost`` (``internal-`` in front
for an internal one, as AWS does), which curl and browsers resolve to loopback (RFC 6761), so the data plane can
later answer on it. ``CanonicalHostedZoneId`` is AWS's real per-region id ("Elastic Load Balancing endpoints and
quotas", AWS General Reference: one column for Application and Classic Load Balancers, one for Network Load
Balancers), so Route 53 alias records written for AWS keep their values; a region not listed gets us-east-1's.
"""

from __future__ import annotations

ALB_ZONES = {
    "us-east-1": "Z35SXDOTRQ7X7K", "us-east-2": "Z3AADJGX6KTTL2", "us-west-1": "Z368ELLRRE2KJ0",
    "us-west-2": "Z1H1FL5HABSF5", "ca-central-1": "ZQSVJUPU6J1EY", "af-south-1": "Z268VQBMOI5EKX",
    "ap-east-1": "Z3DQVH9N71FHZ0", "ap-south-1": "ZP97RAFLXTNZK", "ap-northeast-1": "Z14GRHDCWA56QT",
    "ap-northeast-2": "ZWKZPGTI48KDX", "ap-northeast-3": "Z5LXEXXYW11ES", "ap-southeast-1": "Z1LMS91P8CMLE5",
    "ap-southeast-2": "Z1GM3OXH4ZPM65", "eu-central-1": "Z215JYRZR1TBD5", "eu-west-1": "Z32O12XQLNTSW2",
    "eu-west-2": "ZHURV8PSTC4K8", "eu-west-3": "Z3Q77PNBQS71R4", "eu-north-1": "Z23TAZ6LKFMNIO",
    "eu-south-1": "Z3ULH7SSC9OV64", "me-south-1": "ZS929ML54UICD", "sa-east-1": "Z2P70J7HTTTPLU",
}

NLB_ZONES = {
    "us-east-1": "Z26RNL4JYFTOTI", "us-east-2": "ZLMOA37VPKANP", "us-west-1": "Z24FKFUX50B4VW",
    "us-west-2": "Z18D5FSROUN65G", "ca-central-1": "Z2EPGBW3API2WT", "af-south-1": "Z203XCE67M25HM",
    "ap-east-1": "Z12Y7K3UBGUAD1", "ap-south-1": "ZVDDRBQ08TROA", "ap-northeast-1": "Z31USIVHYNEOWT",
    "ap-northeast-2": "ZIBE1TIR4HY56", "ap-southeast-1": "ZKVM4W9LS7TM", "ap-southeast-2": "ZCT6FZBF4DROD",
    "eu-central-1": "Z3F0SRJ5LGBH90", "eu-west-1": "Z2IFOLAFXWLO4F", "eu-west-2": "ZD4D7Y8KGAS4G",
    "eu-west-3": "Z1CMS0P5QUZ6D5", "eu-north-1": "Z1UDT6IFJ4EJM", "eu-south-1": "Z23146JA1KNAFP",
    "me-south-1": "Z3QSRYVP46NYYV", "sa-east-1": "ZTK26PT1VY4CU",
}


def hosted_zone_id(lb_type: str, region: str) -> str:
    if lb_type == "network":
        return NLB_ZONES.get(region, NLB_ZONES["us-east-1"])
    return ALB_ZONES.get(region, ALB_ZONES["us-east-1"])


def dns_name(name: str, lb_id: str, region: str, scheme: str) -> str:
    prefix = "internal-" if scheme == "internal" else ""
    return f"{prefix}{name}-{lb_id}.{region}.elb.localhost".lower()
