"""Who may plan and drive trains. Starting one also needs release permission on every
component in it, checked by the service (deployments.start_release, per component), or the
approval of their part by the owners. Cancelling a running train is a safety action (like
aborting a release): its starter and the owning teams of its services may, too."""

import rules

from portal.rules import _team_ids, is_sre, is_team_member


@rules.predicate
def is_train_creator(user, train) -> bool:
    return train is not None and user.is_authenticated and train.created_by_id == user.pk


@rules.predicate
def is_train_starter(user, train) -> bool:
    return train is not None and user.is_authenticated and train.started_by_id == user.pk


@rules.predicate
def is_running_train_owner(user, train) -> bool:
    """The train is running and `user` is in a team owning one of its services."""
    if train is None or not train.is_active:
        return False
    teams = _team_ids(user)
    return bool(teams) and train.services.filter(component__owner_id__in=teams).exists()


rules.add_perm("deployments.view_train", rules.is_authenticated)
rules.add_perm("deployments.add_train", is_team_member | is_sre)
rules.add_perm("deployments.change_train", is_train_creator | is_sre)
rules.add_perm("deployments.start_train", is_train_creator | is_sre)
# Asking a team again for a part that expired unanswered (the train waits under stay-paused).
rules.add_perm("deployments.reask_train", is_train_starter | is_sre)
rules.add_perm(
    "deployments.cancel_train",
    is_train_creator | is_train_starter | is_sre | is_running_train_owner,
)


@rules.predicate
def is_part_approver(user, part) -> bool:
    """Eligible for this team's part: a member (a lead, when the policy says leads) of the
    team, or an SRE; never whoever started the train (one does not approve one's own ask)."""
    if part is None or not user.is_authenticated or part.train.started_by_id == user.pk:
        return False
    if is_sre(user):
        return True
    return part.team_id in _team_ids(user, leads_only=part.approvers == "leads")


rules.add_perm("deployments.decide_trainapproval", is_part_approver)
