from portal.errors import PortalError


class ReleaseRefused(PortalError):
    """A release cannot start or change as asked (conflict, freeze, wrong state)."""
