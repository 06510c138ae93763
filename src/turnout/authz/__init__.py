"""Authorization: what AWS evaluates for each call (actions, resources, context keys) and the gateway's
authorize step that evaluates it with the policy engine (``turnout.policy``)."""
