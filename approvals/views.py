from django.shortcuts import render


def approval_inbox(request):
    """Pending approvals the signed-in person can decide."""
    return render(request, "approvals/approval_inbox.html", {})
