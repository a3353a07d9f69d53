"""The one error type adapters raise: vendor exceptions never leave integrations/."""


class IntegrationError(Exception):
    """An external system failed or refused.

    `transient` is True when trying again later may work (timeouts, 5xx, rate limits): Celery tasks
    retry those with backoff and mark the work failed for anything else.
    `delivered` says, for a request that changes something, whether the other side may have
    received it: False when it certainly did not (refused, no connection), None when nobody
    knows (the answer was lost: a timeout, a 5xx), so a retry must look before sending again.
    """

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        system: str = "",
        status: int | None = None,
        delivered: bool | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.system = system
        self.status = status
        self.delivered = delivered

    def __str__(self) -> str:
        prefix = f"{self.system}: " if self.system else ""
        return f"{prefix}{self.message}"
