"""Catalog permissions."""

import rules

from portal.rules import is_platform_admin

# Importing descriptors can rewrite the whole organisation: platform team only.
rules.add_perm("catalog.import_backstage", is_platform_admin)
