"""Errors raised by services: each carries a message fit to show a person."""


class PortalError(Exception):
    """A broken business rule. The message is shown to the user as it is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PermissionDenied(PortalError):
    """The actor may not do this. `recorded`: the refusal was written to the audit log (pages
    say so only then; a refused page view is not an audited action)."""

    def __init__(self, message: str, *, recorded: bool = False):
        super().__init__(message)
        self.recorded = recorded


class ValidationFailed(PortalError):
    """The input breaks a rule; nothing was changed."""
