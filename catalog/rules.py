"""Catalog permissions."""

import rules

from portal.rules import is_platform_admin, is_sre

# Importing descriptors can rewrite the whole organisation: platform team only.
rules.add_perm("catalog.import_backstage", is_platform_admin)

# The admin: the platform team edits the catalog by hand (audited by RulesAdminMixin); SREs read.
for _model in (
    "component",
    "componentenvironment",
    "dependency",
    "apirelation",
    "team",
    "person",
    "namespace",
    "system",
    "environment",
):
    rules.add_perm(f"catalog.view_{_model}", is_platform_admin | is_sre)
    for _verb in ("add", "change", "delete"):
        rules.add_perm(f"catalog.{_verb}_{_model}", is_platform_admin)

# Catalog sources and the orphans they leave: the platform team's (SREs may look).
rules.add_perm("catalog.sync_catalogsource", is_platform_admin)
rules.add_perm("catalog.delete_orphan", is_platform_admin)
for _model in ("catalogsource", "entityorigin"):
    rules.add_perm(f"catalog.view_{_model}", is_platform_admin | is_sre)
rules.add_perm("catalog.add_catalogsource", is_platform_admin)
rules.add_perm("catalog.change_catalogsource", is_platform_admin)
rules.add_perm("catalog.delete_catalogsource", is_platform_admin)

# The service page and the catalog's cards on it (graph, blast radius, owners): anyone signed in.
rules.add_perm("catalog.view_service", rules.is_authenticated)
