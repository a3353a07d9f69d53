"""notifications rows of the RBAC matrix: each person changes only their own rows."""

from django.urls import reverse


def _unread_for_everyone(w):
    from notifications.models import Notification

    for user in w.users.values():
        if user is not None:
            Notification.objects.create(event="approval.requested", channel="portal", user=user,
                                        address=f"user:{user.pk}", key="approval:1",
                                        title="Approve?", state="sent")  # fmt: skip


# A person's own notifications and preferences: every signed-in person, the superuser included
# (as a person, not by the flag: "personal" rows are about one's own data, not a grant).
SIGNED_IN = {
    "owner_member", "owner_lead", "other_team_member", "sre", "platform_admin", "viewer",
    "requester", "superuser",
}  # fmt: skip

RBAC_CASES = [
    {
        "url_name": "notifications:read_all",
        "url": lambda w: reverse("notifications:read_all"),
        "setup": _unread_for_everyone,
        "allowed": SIGNED_IN,
        "personal": True,
        "audits_denial": False,
    },
    {
        "url_name": "notifications:preferences",
        "url": lambda w: reverse("notifications:preferences"),
        "data": lambda w: {"approval.requested|portal": "on"},
        "allowed": SIGNED_IN,
        "personal": True,
        "audits_denial": False,
    },
]
