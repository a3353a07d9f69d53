"""Browser tests: a Chromium context signed in as a user, without the password form."""

from django.conf import settings
from django.test import Client


def signed_in(browser, live_server, user):
    """A browser context with `user`'s session (force_login: no password form, no axes)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context()
    context.add_cookies([{
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }])  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(30_000)
    return context, page
