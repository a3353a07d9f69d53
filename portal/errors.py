"""Errors raised by services: each carries a message fit to show a person."""


class PortalError(Exception):
    """A broken business rule. The message is shown to the user as it is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PermissionDenied(Exception):  # noqa: N818 - the name every Django reader expects
    """The actor may not do this. Not a PortalError: views never catch it to show a message.

    It travels to `portal.middleware.PortalErrorMiddleware`, which answers with one rule
    (docs/architecture.md): 404 when the view serves an object the actor may not see (it says so
    with `@refusal_hides_object`), else 403 with the reason.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ValidationFailed(PortalError):
    """The input breaks a rule; nothing was changed."""
