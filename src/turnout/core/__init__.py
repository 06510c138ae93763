"""What every layer above shares: the request context, the provider base, principals, the clock, ids and ARNs.

``core`` sits below ``auth``, ``authz``, the gateway and the services, and above ``policy``, ``wire`` and ``store``
(the layers contract in pyproject.toml).
"""
