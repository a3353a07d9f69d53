"""python manage.py import_catalog PATH_OR_FILE... [--format text|json] [--dry-run] [--strict]"""

import json

from django.core.management.base import BaseCommand, CommandError

from catalog.backstage import catalog_import


class Command(BaseCommand):
    help = (
        "Import Backstage descriptor files (catalog-info.yaml, Locations are followed). "
        "Per entity: bad entities are listed and skipped, references to entities not in the "
        "catalog are kept until the target arrives. --strict: all or nothing, any problem "
        "means nothing is written. Exit status 0 only without errors."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH_OR_FILE")
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; write nothing."
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="All or nothing, unknown references are errors (to validate descriptors in CI).",
        )

    def handle(self, *args, paths, format, dry_run, strict, **options):
        report = catalog_import(
            paths=paths,
            actor=None,
            actor_label="command:import_catalog",
            dry_run=dry_run,
            strict=strict,
        )
        if format == "json":
            # stdout keeps the documented five keys; API versions and warnings are for people.
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
            for version in report.api_versions:
                self.stderr.write(f"API version stored: {version}")
            for warning in report.warnings:
                self.stderr.write(f"warning: {warning.as_dict()}")
        else:
            self._text(report)
        if report.errors:
            raise CommandError(f"{len(report.errors)} error(s); nothing was imported", returncode=1)

    def _text(self, report) -> None:
        prefix = "Dry run, nothing written: would have " if report.dry_run else ""
        self.stdout.write(
            f"{prefix}created {report.created}, updated {report.updated}, "
            f"unchanged {report.unchanged}, skipped {len(report.skipped)}, "
            f"errors {len(report.errors)}, rejected {len(report.rejected)}, "
            f"unresolved references {len(report.unresolved)}, resolved {report.resolved}"
        )
        for problem in report.rejected:
            where = f"{problem.file}:{problem.line}" if problem.line else problem.file
            self.stdout.write(self.style.WARNING(f"  not imported {where}: {problem.message}"))
        for ref in report.unresolved:
            self.stdout.write(
                f"  unresolved {ref['entity']} {ref['field']} {ref['target']} "
                f"({ref['file']}:{ref['line']}): not in the catalog yet"
            )
        for skipped in report.skipped:
            self.stdout.write(
                f"  skipped {skipped.ref} ({skipped.file}:{skipped.line}): {skipped.reason}"
            )
        for version in report.api_versions:
            self.stdout.write(f"  stored {version}")
        for warning in report.warnings:
            where = f"{warning.file}:{warning.line}" if warning.line else warning.file
            self.stdout.write(self.style.WARNING(f"  warning {where}: {warning.message}"))
        for error in report.errors:
            where = f"{error.file}:{error.line}" if error.line else error.file
            self.stdout.write(self.style.ERROR(f"  error {where}: {error.message}"))
