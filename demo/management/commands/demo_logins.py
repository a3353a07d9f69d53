from django.core.management.base import BaseCommand

from .seed_demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Print the demo logins that seed_demo creates."

    def handle(self, *args, **options):
        self.stdout.write(f"  Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, _first, _email, _admin, role in DEMO_USERS:
            self.stdout.write(f"    {username:8} {role}")
