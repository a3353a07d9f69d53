"""Skip an import that would change nothing: same inputs, catalog untouched since the last run.

A clean import of files (no rejected entity, no unresolved reference, no warning) records what
it read (`ReadResult.inputs`: each file's SHA-256, each scanned directory's and Location glob's
listing) and the catalog version its transaction left. Running it again with every input
unchanged and the catalog version unchanged (triggers bump it on any write to any table the
import writes, whoever writes) would read the same entities into the same rows: nothing to
parse, compare or write. Uploads, source syncs, strict and dry runs always run in full.
(API versions are not catalog tables: one deleted by hand since is not stored again by a
skipped run; the next change to its definition, or any catalog write, brings it back.)
"""

import hashlib
import json
import os
from pathlib import Path

from ..models import ImportDigest
from ..selectors import catalog_version
from .reader import (
    Skipped,
    directory_files,
    glob_matches,
    listing_fingerprint,
    text_fingerprint,
)


def digest_key(paths) -> str:
    named = [os.path.realpath(p) for p in paths]
    return hashlib.sha256(json.dumps(named).encode()).hexdigest()


def _fingerprint_now(name: str) -> str | None:
    kind, _, where = name.partition(":")
    try:
        if kind == "file":
            return text_fingerprint(Path(where).read_text(encoding="utf-8"))
        if kind == "dir":
            root = Path(where)
            return listing_fingerprint(p.relative_to(root) for p in directory_files(root))
        if kind == "glob":
            return listing_fingerprint(glob_matches(where))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return None  # uploads ("source:") are never skipped


def digest_unchanged(paths) -> dict | None:
    """The last run's report (counts and skipped entries) when re-running it changes nothing."""
    digest = ImportDigest.objects.filter(key=digest_key(paths)).first()
    if digest is None or not digest.inputs or digest.token != catalog_version():
        return None
    if any(_fingerprint_now(name) != fp for name, fp in digest.inputs.items()):
        return None
    return digest.report


def digest_record(paths, *, inputs: dict, token: str | None, report, entities: int) -> None:
    """Remember a clean run of `paths`; forget the digest of a run that was not clean."""
    key = digest_key(paths)
    clean = not (report.errors or report.rejected or report.unresolved or report.warnings)
    if not clean or token is None or any(n.startswith("source:") for n in inputs):
        ImportDigest.objects.filter(key=key).delete()
        return
    summary = {
        "entities": entities,  # the run's own: a re-run finds each of them unchanged
        "skipped": [s.as_dict() for s in report.skipped],
    }
    ImportDigest.objects.update_or_create(
        key=key, defaults={"inputs": inputs, "token": token, "report": summary}
    )


def skipped_entries(summary: dict) -> list[Skipped]:
    return [Skipped(**entry) for entry in summary["skipped"]]
