"""Where each external system is: a setting in production, the running sandbox in development.

`endpoint("kubernetes")` returns `settings.KUBERNETES_URL`-style overrides first (read from the
environment by settings), then the address the sandbox wrote to `.sandbox/endpoints.json`.
"""

import json

from django.conf import settings

from .errors import IntegrationError


def sandbox_endpoints() -> dict[str, str]:
    path = settings.SANDBOX_DIR / "endpoints.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise IntegrationError(f"{path} is not valid JSON: {exc}", transient=True, system="sandbox")


def endpoint(system: str) -> str:
    """The base URL of `system`; raises IntegrationError naming what to configure."""
    configured = getattr(settings, "INTEGRATION_URLS", {}).get(system)
    if configured:
        return configured.rstrip("/")
    found = sandbox_endpoints().get(system)
    if found:
        return found.rstrip("/")
    raise IntegrationError(
        f"no address for {system}: set {system.upper()}_URL, or start the sandbox "
        "(python manage.py sandbox, part of make run)",
        transient=False,
        system=system,
    )
