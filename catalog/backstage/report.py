"""What an import run reports: counts, what it skipped, rejected or left unresolved."""

from dataclasses import dataclass, field

from django.db import transaction

from portal.audit import audit_record

from .digest import skipped_entries
from .reader import Problem, Skipped


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    # After a successful import: API definitions that did not become a version (the catalog
    # import itself stands), and the versions that were stored.
    warnings: list[Problem] = field(default_factory=list)
    api_versions: list[str] = field(default_factory=list)
    # Tolerant import: entities (or files) left out, and references kept for later.
    strict: bool = False
    rejected: list[Problem] = field(default_factory=list)
    unresolved: list[dict] = field(default_factory=list)
    resolved: int = 0
    orphaned: int = 0  # a source's run: entities it no longer provides

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": len(self.skipped),
            "errors": len(self.errors),
            "rejected": len(self.rejected),
            "unresolved": len(self.unresolved),
            "resolved": self.resolved,
            "orphaned": self.orphaned,
        }

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": [s.as_dict() for s in self.skipped],
            "errors": [e.as_dict() for e in self.errors],
            "rejected": [e.as_dict() for e in self.rejected],
            "unresolved": self.unresolved,
        }


def unchanged_run(summary: dict, actor, actor_label, context) -> ImportReport:
    """The report of a re-run that `digest` proved would change nothing (audited as one)."""
    report = ImportReport(unchanged=summary["entities"], skipped=skipped_entries(summary))
    with transaction.atomic():
        audit_record(
            actor=actor,
            actor_label=actor_label,
            action="catalog.import",
            after={**report.counts(), "inputs_unchanged": True},
            context=context,
        )
    return report
