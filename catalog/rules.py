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

# The service page and the catalog's cards on it (graph, blast radius, owners): anyone signed in.
rules.add_perm("catalog.view_service", rules.is_authenticated)
