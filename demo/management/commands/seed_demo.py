from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from apidocs.demo import demo_api_addresses_configured, demo_apis_seed
from approvals.models import ApprovalPolicy
from catalog.demo import build_demo_catalog
from catalog.models import Component, Environment, Team
from deployments.dora.history import HistoryPlan, release_history_seed
from deployments.models import ControlPolicy, EventSink, TuningKey
from portal.models import SsoGroupMapping, TeamMembership
from portal.rules import PLATFORM_ADMIN_GROUP, SRE_GROUP, VIEWER_GROUP

DEMO_PASSWORD = "switchyard-demo"
DEMO_USERS = [
    # username, first name, email, is_superuser/staff, what they are in the demo
    ("admin", "Ada", "admin@example.com", True, "platform admin"),
    ("alice", "Alice", "alice@example.com", False, "team lead, Payments 1"),
    ("bob", "Bob", "bob@example.com", False, "engineer, Payments 1"),
    ("carol", "Carol", "carol@example.com", False, "engineer, Checkout 1"),
    ("sam", "Sam", "sam@example.com", False, "SRE"),
    ("pat", "Pat", "pat@example.com", False, "product manager (viewer)"),
]
DEMO_PLATFORM_GROUPS = {"admin": PLATFORM_ADMIN_GROUP, "sam": SRE_GROUP, "pat": VIEWER_GROUP}
DEMO_TEAMS = {
    "alice": ("team-payments-1", TeamMembership.Role.LEAD),
    "bob": ("team-payments-1", TeamMembership.Role.MEMBER),
    "carol": ("team-checkout-1", TeamMembership.Role.MEMBER),
}


# SSO group, team, team role, platform role: what the sandbox identities' groups grant.
DEMO_SSO_MAPPINGS = [
    ("payments", "team-payments-1", "member", ""),
    ("payments-leads", "team-payments-1", "lead", ""),
    ("checkout", "team-checkout-1", "member", ""),
    ("sre", None, "member", "sre"),
    ("platform-admins", None, "member", "platform-admin"),
    ("pm", None, "member", "viewer"),
]


class Command(BaseCommand):
    help = "Seed a demo organisation (users, environments, teams, services, dependencies)."

    def add_arguments(self, parser):
        parser.add_argument("--services", type=int, default=220)
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the catalog has components"
        )

    @transaction.atomic
    def handle(self, *args, **options):
        users_created = self._ensure_users()
        if options["if_empty"] and Component.objects.exists():
            self._ensure_sso_mappings()
            self.stdout.write("seed_demo: the catalog already has components; left as it is.")
            return
        summary = build_demo_catalog(services=options["services"])
        self._ensure_memberships()
        self._ensure_sso_mappings()
        self._ensure_guardrails()
        # Canary releases to production wait for an approval from the owning team (or an SRE).
        ApprovalPolicy.objects.get_or_create(
            environment=Environment.objects.get(name="prod"),
            defaults={"quorum": 1, "on_expiry": "abort", "default_ttl_minutes": 30},
        )
        # What pat tries on the tour: two published APIs, callable on staging (sandbox servers).
        addresses = demo_api_addresses_configured()
        apis = demo_apis_seed(grpc_address=addresses["grpc"], http_address=addresses["http"])
        history = self._seed_delivery()
        self.stdout.write(
            f"seed_demo: {users_created} users, {summary.namespaces} namespaces, "
            f"{summary.teams} teams, {summary.components} components ({summary.services} "
            f"services and their subcomponents), {summary.edges} edges, {len(apis)} published "
            f"APIs, {history['releases']} past production releases and {history['incidents']} "
            "incidents (the DORA charts)."
        )

    def _seed_delivery(self) -> dict:
        """Twelve weeks of production releases of every service, so the DORA pages have
        history from the first start; and the sandbox's CDEvents sink (a blank URL sends to
        it), so every release from now on is told as CDEvents."""
        EventSink.objects.get_or_create(name="sandbox", defaults={"url": "", "enabled": True})
        return release_history_seed(
            components=Component.objects.filter(parent__isnull=True, kind="service"),
            environment=Environment.objects.get(name="prod"),
            plan=HistoryPlan(weeks=12, per_week=2.0),
        )

    def _ensure_sso_mappings(self) -> None:
        """Map the sandbox identity provider's groups (sandbox/oidc) onto the demo teams."""
        for group, team_name, team_role, platform_role in DEMO_SSO_MAPPINGS:
            team = Team.objects.filter(name=team_name).first() if team_name else None
            if team_name and team is None:
                continue
            SsoGroupMapping.objects.get_or_create(
                group=group,
                team=team,
                platform_role=platform_role,
                defaults={"team_role": team_role},
            )

    def _ensure_users(self) -> int:
        User = get_user_model()
        created = 0
        for username, first_name, email, is_admin, _role in DEMO_USERS:
            user, was_created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first_name,
                    "email": email,
                    "is_staff": is_admin,
                    "is_superuser": is_admin,
                },
            )
            if was_created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
                created += 1
        return created

    def _ensure_memberships(self) -> None:
        User = get_user_model()
        for username, group_name in DEMO_PLATFORM_GROUPS.items():
            group, _ = Group.objects.get_or_create(name=group_name)
            group.user_set.add(User.objects.get(username=username))
        for username, (team_name, role) in DEMO_TEAMS.items():
            team = Team.objects.filter(name=team_name).first()
            if team:
                TeamMembership.objects.get_or_create(
                    user=User.objects.get(username=username), team=team, defaults={"role": role}
                )

    def _ensure_guardrails(self) -> None:
        """Default knobs per environment and a few runtime settings on every top-level service."""
        everyone = [ControlPolicy.Role.OWNER_TEAM, ControlPolicy.Role.SRE]
        for env in Environment.objects.all():
            ControlPolicy.objects.get_or_create(
                environment=env,
                component=None,
                defaults={
                    "replicas_enabled": True,
                    "replicas_min": 1 if not env.is_production else 2,
                    "replicas_max": 6 if not env.is_production else 12,
                    "replicas_roles": everyone
                    + ([] if env.is_production else [ControlPolicy.Role.OTHER_TEAMS]),
                    "hpa_enabled": True,
                    "hpa_roles": everyone,
                    "restart_enabled": True,
                    "restart_roles": [ControlPolicy.Role.OWNER_LEAD, ControlPolicy.Role.SRE],
                },
            )
        # Named as the sandbox's pods read them: envFrom makes each key an environment variable
        # (the tuning page shows how each one is read, and what a change needs to reach it).
        keys = []
        for component in Component.objects.filter(parent__isnull=True, kind="service"):
            keys += [
                TuningKey(
                    component=component,
                    key="LOG_SAMPLING_RATE",
                    kind="sampling",
                    default=0.1,
                    description="Share of requests whose logs are kept",
                ),
                TuningKey(
                    component=component,
                    key="CHECKOUT_NEW_FLOW",
                    kind="toggle",
                    default=False,
                    description="Serve the new flow",
                ),
                TuningKey(
                    component=component,
                    key="HTTP_TIMEOUT_MS",
                    kind="int",
                    default=2000,
                    minimum=100,
                    maximum=30000,
                    description="Upstream call timeout",
                ),
            ]
        TuningKey.objects.bulk_create(keys, ignore_conflicts=True)
