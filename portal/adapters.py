"""django-allauth adapters: who may sign in how, where the SSO app comes from, and what an SSO
login changes (team memberships and platform roles from the groups claim)."""

import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.db import transaction

from integrations.endpoints import endpoint
from integrations.errors import IntegrationError

from .audit import AuditContext, audit_record
from .services import sso_groups_apply

logger = logging.getLogger(__name__)

OIDC_PROVIDER = "openid_connect"


def sso_groups_from_claims(extra_data: dict) -> list[str]:
    """The groups claim from allauth's stored OIDC data (userinfo first, then the ID token)."""
    claim = getattr(settings, "OIDC_GROUPS_CLAIM", "groups")
    for source in ("userinfo", "id_token"):
        value = (extra_data.get(source) or {}).get(claim)
        if value is not None:
            return [value] if isinstance(value, str) else [str(group) for group in value]
    return []


class AccountAdapter(DefaultAccountAdapter):
    """Local accounts exist for development and break-glass; sign-up is never open."""

    def is_open_for_signup(self, request):
        return False

    def post_login(self, request, user, *, signal_kwargs=None, **kwargs):
        sociallogin = (signal_kwargs or {}).get("sociallogin")
        context = AuditContext.from_request(request)
        if sociallogin is not None:
            groups = sso_groups_from_claims(sociallogin.account.extra_data or {})
            changes = sso_groups_apply(user=user, groups=groups, context=context)
            details = {"via": "sso", "groups": groups, "added": changes.added}
            details |= {"removed": changes.removed, "changed": changes.changed}
            action = "identity.login"
        else:
            details = {"via": "password"}
            local_off = not getattr(settings, "LOCAL_LOGIN_ENABLED", True)
            action = "identity.break_glass_login" if local_off else "identity.login"
        with transaction.atomic():
            audit_record(actor=user, action=action, after=details, context=context)
        return super().post_login(request, user, signal_kwargs=signal_kwargs, **kwargs)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """SSO users get an account on first sign-in. The OpenID Connect app comes from settings
    (OIDC_* environment variables) in production; in development and tests, when none is
    configured, it is the running sandbox provider, looked up per request because its port is
    chosen when the sandbox starts."""

    def is_open_for_signup(self, request, sociallogin):
        return True

    def list_apps(self, request, provider=None, client_id=None):
        apps = super().list_apps(request, provider=provider, client_id=client_id)
        if not getattr(settings, "OIDC_SANDBOX_ENABLED", False) or apps:
            return apps
        if provider not in (None, OIDC_PROVIDER, _sandbox_client()["provider_id"]):
            return apps
        if client_id not in (None, _sandbox_client()["client_id"]):
            return apps
        if any(app.provider == OIDC_PROVIDER for app in super().list_apps(request)):
            return apps
        sandbox_app = self._sandbox_app()
        return [sandbox_app] if sandbox_app else apps

    def _sandbox_app(self):
        from allauth.socialaccount.models import SocialApp

        try:
            server_url = endpoint("oidc")
        except IntegrationError as exc:
            logger.debug("no sandbox OpenID Connect provider: %s", exc)
            return None
        client = _sandbox_client()
        return SocialApp(
            provider=OIDC_PROVIDER,
            provider_id=client["provider_id"],
            name=getattr(settings, "OIDC_PROVIDER_NAME", "SSO"),
            client_id=client["client_id"],
            secret=client["secret"],
            settings={
                "server_url": server_url,
                "oauth_pkce_enabled": True,
                "token_auth_method": "client_secret_basic",
                "scope": ["openid", "profile", "email", "groups"],
            },
        )


def _sandbox_client() -> dict:
    """The client the sandbox provider registers: from settings, never from `sandbox`."""
    return settings.OIDC_SANDBOX_CLIENT
