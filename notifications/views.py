from django.contrib import messages
from django.shortcuts import redirect, render

from portal.decorators import mutating, mutating_form

from . import services
from .channels import CHANNELS
from .models import Notification, NotificationPreference


def _unread(user) -> int:
    return Notification.objects.filter(user=user, channel="portal", read_at__isnull=True).count()


def notification_bell(request):
    """The bell's unread count (a fragment the top bar polls through htmx)."""
    return render(
        request, "notifications/notification_list.html#bell", {"unread": _unread(request.user)}
    )


def notification_list(request):
    rows = Notification.objects.filter(user=request.user, channel="portal")[:50]
    return render(
        request,
        "notifications/notification_list.html",
        {"notifications": rows, "unread": _unread(request.user)},
    )


@mutating
def notification_read_all(request):
    count = services.notifications_read(actor=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return redirect("notifications:list")


@mutating_form
def notification_preferences(request):
    if request.method == "POST":
        chosen = {
            (event, channel)
            for event in services.EVENTS
            for channel in CHANNELS
            if request.POST.get(f"{event}|{channel}") == "on"
        }
        services.preferences_set(actor=request.user, enabled=chosen)
        messages.success(request, "Notification settings saved.")
        return redirect("notifications:preferences")
    off = set(
        NotificationPreference.objects.filter(user=request.user, enabled=False).values_list(
            "event", "channel"
        )
    )
    rows = [
        {
            "event": event,
            "label": label,
            "channels": [
                {"name": name, "label": channel.label, "on": (event, name) not in off}
                for name, channel in CHANNELS.items()
            ],
        }
        for event, label in services.EVENTS.items()
    ]
    return render(request, "notifications/notification_preferences.html", {"rows": rows})
