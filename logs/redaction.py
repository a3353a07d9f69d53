"""Secrets and tokens out of log lines before anyone sees them.

Each pattern keeps its first group (the name of what it hides) and replaces the rest with
REDACTED; settings.LOGS_REDACT_PATTERNS adds an organisation's own (the whole match goes).
Redaction runs before truncation, so a secret cut in half by the length limit is still caught.
"""

import re
from functools import lru_cache

from django.conf import settings

REDACTED = "[REDACTED]"
PATTERNS = [
    # Authorization headers and bare bearer tokens
    r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|token|digest)\s+)[^\s\"',;]+",
    r"(?i)(\bbearer\s+)[a-z0-9\-._~+/]+=*",
    # user:password@ in URLs (database and broker addresses)
    r"([a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+(?=@)",
    # key=value and "key": "value" with a secret-sounding key
    r"(?i)(\b(?:api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|auth[_-]?token|token|"
    r"secret|client[_-]?secret|password|passwd|pwd|private[_-]?key|session[_-]?id)"
    r"[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,;}]+",
    # well-known token shapes, wherever they appear
    r"()\beyJ[a-zA-Z0-9_-]{5,}\.[a-zA-Z0-9_-]{5,}\.[a-zA-Z0-9_-]*",  # JWT
    r"()\b(?:sk|rk|pk)_(?:live|test)_[a-zA-Z0-9]{10,}",  # Stripe-style keys
    r"()\bgh[pousr]_[a-zA-Z0-9]{20,}",  # GitHub tokens
    r"()\bxox[abprs]-[a-zA-Z0-9-]{10,}",  # Slack tokens
    r"()\bAKIA[0-9A-Z]{16}\b",  # AWS access key ids
    r"()-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
]


@lru_cache(maxsize=8)
def _compiled(extra: tuple[str, ...]) -> list[re.Pattern]:
    return [re.compile(p) for p in PATTERNS] + [re.compile(f"(){p}") for p in extra]


def redact(text: str) -> str:
    """`text` with every secret replaced by [REDACTED]."""
    for pattern in _compiled(tuple(getattr(settings, "LOGS_REDACT_PATTERNS", ()))):
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text
