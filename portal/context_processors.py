def navigation(request):
    """Which top-level section the current page belongs to, for the navigation bar."""
    match = getattr(request, "resolver_match", None)
    namespace = match.namespace if match else ""
    section = {
        "catalog": "catalog",
        "deployments": "releases",
        "approvals": "approvals",
        "apidocs": "apis",
    }.get(namespace, "")
    if match and match.url_name and match.url_name.startswith("dora_"):
        section = "delivery"
    return {"nav_section": section, "can_open_admin": lambda: _can_open_admin(request)}


def _can_open_admin(request) -> bool:
    """The top bar's "Admin" link follows who the admin site lets in (SREs and platform admins
    by group, not only staff), asked only when a page draws the link."""
    from django.contrib import admin

    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and admin.site.has_permission(request))
