"""The request path: a chain of steps (route, authenticate, parse, authorize, dispatch) and finalizers."""
