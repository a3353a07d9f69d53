from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Local accounts exist for development and break-glass; sign-up is never open."""

    def is_open_for_signup(self, request):
        return False
