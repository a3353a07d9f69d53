"""Links that come from machines and descriptors: only http(s) ones are kept or rendered.

A `javascript:` or `data:` URL stored from a workflow request or a Backstage descriptor would
run in the viewer's session when clicked (the Content-Security-Policy refuses it too; this is
the first line).
"""

from urllib.parse import urlsplit

MAX_URL_LENGTH = 2000


def is_http_url(value) -> bool:
    """True for an absolute http:// or https:// URL with a host (and no control characters)."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
        return False
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
