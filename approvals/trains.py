"""A train's approval carried to its releases' canary pauses.

Under an approval policy a train's service waits for its team's part (deployments.trains.parts)
and is then released; its canary pauses and the workflow asks for an approval as any release
does. That pause is decided with the part: the person who approved their team's part votes
for the release's request, under the same rules as on the approval page (eligible, never the
requester, the release re-read before). A quorum above one still needs the other votes there.
Registered by `ApprovalsConfig.ready()`: the train machine runs it on its ticks.
"""

import rules

from integrations.errors import IntegrationError
from portal.errors import PermissionDenied, PortalError

from .models import ApprovalRequest
from .services import approval_decide, approval_for_release, release_waits_on


def train_pause_decide(*, train, service, release, approver) -> str:
    """Vote `approver`'s approval of their part for the request `release` waits on; "" when
    done or nothing to do, otherwise why the pause is left to people."""
    approval = approval_for_release(release)
    if approval is None or not release_waits_on(release, approval):
        return ""  # the workflow has not asked yet, or the rollout is not at that pause yet
    if approval.votes.filter(user=approver).exists():
        return ""
    team = service.component.owner
    if not rules.has_perm("approvals.decide_approvalrequest", approver, approval):
        # Checked first so that a refusal is not audited again on every tick.
        return f"Its canary's approval is left to people: {approver} may not decide it."
    try:
        approval_decide(
            actor=approver,
            approval=approval,
            decision=ApprovalRequest.Decision.APPROVE,
            comment=f"Approved with {team}'s part of the train “{train.title}”",
        )
    except IntegrationError as exc:
        return f"Its canary's approval waits: {exc}. Tried again on the next tick."
    except (PortalError, PermissionDenied) as exc:
        return f"Its canary's approval is left to people: {exc}"
    return ""
