"""The command line: ``turnout serve``, ``explain``, ``trail`` and ``demo`` (clients of the server, and the
command that starts it). Nothing below imports this package."""
