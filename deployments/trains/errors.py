from portal.errors import PortalError


class TrainRefused(PortalError):
    """A train cannot be planned, changed or started as asked; the message says why."""
