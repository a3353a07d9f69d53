"""Catalog sources kept in sync by beat: one class per kind in one registry (see base.py)."""

from . import backstage, directory, github  # noqa: F401  (register their kinds)
from .base import SOURCE_KINDS, Fetched, SourceKind, register, source_kind

__all__ = ["SOURCE_KINDS", "Fetched", "SourceKind", "register", "source_kind"]
