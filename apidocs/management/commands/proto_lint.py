"""Run buf lint ahead of time over stored protobuf versions that have not been linted yet."""

from django.core.management.base import BaseCommand
from django.db.models import OuterRef, Subquery

from apidocs.contracts import BufUnavailable
from apidocs.models import ApiDefinition, ApiVersion
from apidocs.services import api_version_lint


class Command(BaseCommand):
    help = (
        "Lint (buf lint) the latest version of each protobuf API that has no lint result yet, "
        "so that the version pages need not run buf on their first view. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500, help="at most this many versions")
        parser.add_argument(
            "--all-versions", action="store_true", help="every unlinted version, not the latest"
        )

    def handle(self, *args, limit, all_versions, **options):
        pending = ApiVersion.objects.filter(
            definition__kind=ApiDefinition.Kind.PROTOBUF, lint_findings__isnull=True
        ).exclude(descriptor_set=None)
        if not all_versions:
            latest = ApiVersion.objects.filter(definition=OuterRef("definition")).order_by(
                "-number"
            )
            pending = pending.filter(number=Subquery(latest.values("number")[:1]))
        pending = pending.order_by("definition_id", "-number")
        done = failed = 0
        for version in pending[:limit]:
            try:
                findings = api_version_lint(version=version)
            except BufUnavailable as error:
                failed += 1
                self.stderr.write(f"{version}: {error.message}")
                continue
            done += 1
            self.stdout.write(f"{version}: {len(findings)} lint finding(s)")
        self.stdout.write(f"Linted {done} version(s); {failed} could not be linted.")
