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
    return {"nav_section": section}
