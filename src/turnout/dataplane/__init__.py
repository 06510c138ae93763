"""What runs, simulated: ECS tasks moving through their states on the clock (``task_lifecycle``), load-balancer
health checks (``health``) and lifecycle-hook Lambdas invoked over HTTP (``lambda_hooks``). Above ``services``: the
APIs reach it only through the protocols their ``ports.py`` declare, wired by ``server.build_gateway``."""
