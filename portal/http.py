"""Small request helpers shared by every app's views."""

from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, fallback: str, *, field: str = "next") -> str:
    """The `next` URL from the form or query string when it stays on this site, else `fallback`.

    Every redirect to a client-supplied address goes through here (no open redirects)."""
    candidate = request.POST.get(field) or request.GET.get(field) or ""
    allowed = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if candidate and allowed else fallback
