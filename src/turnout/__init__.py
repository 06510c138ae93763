"""Turnout: a local, offline AWS control plane for ECS blue/green, linear and canary deployments."""

__version__ = "0.1.0"
DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"
