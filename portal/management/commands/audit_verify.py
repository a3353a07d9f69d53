from django.core.management.base import BaseCommand, CommandError

from portal.audit import audit_checkpoint, audit_verify
from portal.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Check the audit log's keyed hash chain and its signed checkpoints; exit non-zero "
        "naming every broken event. --checkpoint then signs the head as it is now."
    )

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", action="store_true", help="sign a checkpoint if intact")

    def handle(self, *args, **options):
        problems = audit_verify()
        for problem in problems:
            self.stderr.write(f"BROKEN: {problem.message}")
        if problems:
            messages = "; ".join(problem.message for problem in problems)
            raise CommandError(f"audit log broken ({len(problems)} problems): {messages}")
        self.stdout.write(f"audit log intact ({AuditEvent.objects.count()} events)")
        if options["checkpoint"] and (checkpoint := audit_checkpoint()):
            self.stdout.write(f"checkpoint signed: {checkpoint}")
