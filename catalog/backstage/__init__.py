"""Backstage catalog descriptors in and out: `catalog_import(...)` and `catalog_export(...)`."""

from .exporter import catalog_export
from .importer import catalog_import
from .reader import Problem, Skipped, Source
from .report import ImportReport

__all__ = ["ImportReport", "Problem", "Skipped", "Source", "catalog_export", "catalog_import"]
