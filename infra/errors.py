"""Errors that stop synthesis with one message for the person running it (not a stack trace)."""


class PlatformDefinitionError(ValueError):
    """The configuration or a definition in the repository cannot be synthesized as it is."""
