from django.core.management.base import BaseCommand, CommandError

from portal.audit import audit_verify
from portal.models import AuditEvent


class Command(BaseCommand):
    help = "Check the audit log's hash chain; exit non-zero naming the first broken event."

    def handle(self, *args, **options):
        problem = audit_verify()
        if problem is not None:
            raise CommandError(f"audit log broken at event {problem.event_id}: {problem.message}")
        self.stdout.write(f"audit log intact ({AuditEvent.objects.count()} events)")
