"""Who reads logs: everyone signed in, except where the environment keeps them to the owning team
and SREs (production by default, settings.LOGS_PRODUCTION_ACCESS; an environment's log_access
in the catalog wins)."""

import rules
from django.conf import settings

from portal.rules import _environment, is_owner_team_member, is_sre


def log_access(environment) -> str:
    """ "owners" or "everyone" for a catalog Environment (unknown counts as production)."""
    if environment is None:
        return settings.LOGS_PRODUCTION_ACCESS
    if environment.log_access:
        return environment.log_access
    return settings.LOGS_PRODUCTION_ACCESS if environment.is_production else "everyone"


@rules.predicate
def logs_open_to_everyone(user, obj) -> bool:
    """`obj` is, or belongs to, an environment whose logs everyone signed in reads."""
    return log_access(_environment(obj)) == "everyone"


# The cards themselves: anyone signed in (each environment's lines are checked on their own).
rules.add_perm("logs.view_panel", rules.is_authenticated)
# The lines of one component in one environment (a ComponentEnvironment, a Release ...).
rules.add_perm(
    "logs.read_logs",
    rules.is_authenticated & (logs_open_to_everyone | is_owner_team_member | is_sre),
)
