from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo organisation: `seed_demo` (users, teams, services, policies) and `demo_logins`."""

    name = "demo"
    verbose_name = "Demo organisation"
