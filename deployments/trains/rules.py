"""Who may plan and drive trains. Starting one also needs release permission on every
component in it, checked by the service (deployments.start_release, per component)."""

import rules

from portal.rules import is_sre, is_team_member


@rules.predicate
def is_train_creator(user, train) -> bool:
    return train is not None and user.is_authenticated and train.created_by_id == user.pk


rules.add_perm("deployments.view_train", rules.is_authenticated)
rules.add_perm("deployments.add_train", is_team_member | is_sre)
rules.add_perm("deployments.change_train", is_train_creator | is_sre)
rules.add_perm("deployments.start_train", is_train_creator | is_sre)
