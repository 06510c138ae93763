"""STS: caller identity and temporary credentials."""
