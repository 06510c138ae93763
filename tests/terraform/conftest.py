"""Replays of the calls the Terraform AWS provider (v6.x) makes for each resource of the seed's configuration.

Each module replays one area's resources in the provider's order and with the provider's parameters (create, the
read after create, a refresh, an update, delete, and the waiters and not-found codes the provider relies on)
against a real ``turnout serve`` (the ``server`` fixture), through boto3. A field the provider reads back must
round-trip exactly as it was sent: a field that comes back different is a perpetual diff in Terraform.
"""
