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
    from .rules import is_platform_admin, is_sre

    user = getattr(request, "user", None)
    if not (user and user.is_authenticated and user.is_active):
        return False
    # The rules' group predicates cache the user's groups for the request's other checks.
    return user.is_staff or is_sre(user) or is_platform_admin(user)
