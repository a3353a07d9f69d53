"""Trigram indexes for the catalog search on PostgreSQL (SQLite, the embedded default, scans).

The component list matches every search term with `icontains` on name, title, description and
tags, which Django writes as `UPPER(column::text) LIKE UPPER('%term%')`. A GIN index over that
very expression with `gin_trgm_ops` answers it, so these indexes are on the same expressions.
"""

from django.db import migrations

COLUMNS = ("name", "title", "description", "tags")


def _indexes(apps, schema_editor, *, create: bool):
    if schema_editor.connection.vendor != "postgresql":
        return
    if create:
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        name = f"component_search_{column}_trgm"
        if create:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON catalog_component "
                f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )
        else:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def create(apps, schema_editor):
    _indexes(apps, schema_editor, create=True)


def drop(apps, schema_editor):
    _indexes(apps, schema_editor, create=False)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0006_catalog_sources")]

    operations = [migrations.RunPython(create, drop)]
