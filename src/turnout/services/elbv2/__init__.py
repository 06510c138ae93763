"""Elastic Load Balancing (v2): application and network load balancers, target groups, targets and their
health, as AWS's ELB API serves them."""
