"""EC2 networking: default VPCs, VPCs, subnets, security groups and their rules, tags (see ``provider.py``)."""
