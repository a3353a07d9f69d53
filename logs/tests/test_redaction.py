"""Secrets never reach the page: redaction by pattern."""

import pytest

from logs.redaction import redact


@pytest.mark.parametrize(
    "line, secret",
    [
        ("token refresh failed for Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abcdef12.sig", "eyJ"),
        ('{"authorization": "Basic dXNlcjpwYXNzd29yZA=="}', "dXNlcjpwYXNzd29yZA"),
        ("database unavailable: postgres://ledger:s3cr3tpass@db.internal:5432/ledger", "s3cr3t"),
        ("POST https://psp.example.com/charge?api_key=abc123def456&x=1", "abc123def456"),
        ('{"password": "hunter2", "user": "bob"}', "hunter2"),
        ("client_secret=0a1b2c3d4e5f", "0a1b2c3d4e5f"),
        ("stripe said no to sk_live_51HxYzAbCdEfGhIjKl", "51HxYzAbCdEfGhIjKl"),
        ("cloned with ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abc"),
        ("slack xoxb-123456789012-abcdefghijkl failed", "xoxb-1234"),
        ("aws AKIAIOSFODNN7EXAMPLE denied", "AKIAIOSFODNN7EXAMPLE"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", "MIIEow"),
    ],
)
def test_known_secret_shapes_are_redacted(line, secret):
    redacted = redact(line)
    assert secret not in redacted
    assert "[REDACTED]" in redacted


def test_what_names_the_secret_stays_readable():
    assert redact("password=hunter2 user=bob") == "password=[REDACTED] user=bob"
    assert redact("postgres://ledger:pw@db/x") == "postgres://ledger:[REDACTED]@db/x"
    assert redact('{"level":"error","msg":"request failed"}') == (
        '{"level":"error","msg":"request failed"}'
    )


def test_an_organisations_own_patterns_are_added_from_settings(settings):
    settings.LOGS_REDACT_PATTERNS = [r"ACME-[0-9]{6}"]
    assert redact("customer ACME-123456 failed") == "customer [REDACTED] failed"
