"""System checks for a production deployment (`manage.py check --deploy`)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def audit_key_is_its_own(app_configs, **kwargs):
    if getattr(settings, "AUDIT_HMAC_KEY_DERIVED", False):
        return [
            checks.Warning(
                "AUDIT_HMAC_KEY is not set: the audit chain's key is derived from SECRET_KEY.",
                hint="Set AUDIT_HMAC_KEY (or AUDIT_HMAC_KEY_FILE) so that auditors can verify "
                "exports offline without holding SECRET_KEY (docs/security.md).",
                id="switchyard.W001",
            )
        ]
    return []
