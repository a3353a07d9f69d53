"""Analysis policies are the platform team's, in the admin; SREs may read them."""

import rules

from portal.rules import is_platform_admin, is_sre

for _verb in ("add", "change", "delete"):
    rules.add_perm(f"deployments.{_verb}_analysispolicy", is_platform_admin)
rules.add_perm("deployments.view_analysispolicy", is_platform_admin | is_sre)
