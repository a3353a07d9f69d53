"""CDEvent sinks are the platform team's, in the admin; SREs may read them and the outbox."""

import rules

from portal.rules import is_platform_admin, is_sre

for _verb in ("add", "change", "delete"):
    rules.add_perm(f"deployments.{_verb}_eventsink", is_platform_admin)
rules.add_perm("deployments.view_eventsink", is_platform_admin | is_sre)
rules.add_perm("deployments.view_cdevent", is_platform_admin | is_sre)
