"""The connection edge: what the server refuses before a request reaches the gateway (sizes, slow clients)."""
