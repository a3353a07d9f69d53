"""How sign-in attempts are counted (django-axes) so that nobody can lock a real user out.

Failed attempts count per (login name, client address): five wrong passwords from one address
block that name from that address for AXES_COOLOFF_TIME; the real user elsewhere still signs in.
The client address is `portal.audit.client_ip` (X-Forwarded-For only behind TRUSTED_PROXIES).
"""

from .audit import client_ip


def login_name(request, credentials: dict | None) -> str:
    """The name tried: allauth passes `username` or `email`; the form field is `login`."""
    credentials = credentials or {}
    name = credentials.get("username") or credentials.get("email")
    if not name and request is not None:
        name = request.POST.get("login", "")
    return str(name or "").strip().lower()[:150]


def login_client_ip(request) -> str:
    return client_ip(request) or ""
