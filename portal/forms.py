from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from .audit import AuditContext, audit_record
from .models import AuditEvent, TeamMembership

LOCAL_LOGIN_OFF_MESSAGE = "Password sign-in is turned off here. Sign in with SSO."


class LoginForm(AllauthLoginForm):
    """allauth's login form that refuses passwords when LOCAL_LOGIN_ENABLED is off.

    Break-glass: active superusers can still sign in with their password (for when the identity
    provider is down); every such sign-in is audited as "identity.break_glass_login". Everyone
    else gets the same message whether or not the password was right, so the form tells nothing.
    """

    @property
    def local_login_enabled(self) -> bool:
        return getattr(settings, "LOCAL_LOGIN_ENABLED", True)

    def clean(self):
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if self.local_login_enabled:
                raise
            self._refuse()
        if self.local_login_enabled:
            return cleaned
        user = getattr(self, "user", None)
        if self._errors or not (user and user.is_active and user.is_superuser):
            self._refuse()
        return cleaned

    def _refuse(self):
        self.user = None
        request = self.request
        with transaction.atomic():
            audit_record(
                actor=None,
                actor_label=f"login:{self.data.get('login', '')[:150]}",
                action="identity.login",
                outcome=AuditEvent.Outcome.DENIED,
                after={"via": "password"},
                reason=LOCAL_LOGIN_OFF_MESSAGE,
                context=AuditContext.from_request(request) if request else None,
            )
        raise forms.ValidationError(LOCAL_LOGIN_OFF_MESSAGE)


class MembershipAddForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=TeamMembership.Role.choices)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(f"There is no user called {username!r}.")
        return user
