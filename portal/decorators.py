"""View decorators shared by every app."""

from functools import wraps

from django.views.decorators.http import require_http_methods, require_POST


def mutating(view):
    """Mark a view as one that changes state, and accept POST only.

    The RBAC matrix test (portal/tests/test_rbac_matrix.py) finds every view marked like this in
    the URL conf and fails until the view has a row in an app's `tests/rbac.py` table.
    """
    guarded = require_POST(view)

    @wraps(guarded)
    def wrapper(request, *args, **kwargs):
        return guarded(request, *args, **kwargs)

    wrapper.mutating = True
    return wrapper


def mutating_form(view):
    """Like `mutating`, for a view that shows its form on GET and changes state on POST.

    The RBAC matrix posts to it like any mutating view; GET only renders.
    """
    guarded = require_http_methods(["GET", "POST"])(view)

    @wraps(guarded)
    def wrapper(request, *args, **kwargs):
        return guarded(request, *args, **kwargs)

    wrapper.mutating = True
    return wrapper


def refusal_hides_object(view):
    """The view serves an object the actor may only see when allowed (an API's upload form, an
    example someone else saved): a refusal (`PermissionDenied`) answers 404, not 403.

    The rule lives in `portal.middleware.PortalErrorMiddleware`; views never catch the refusal.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.refusal_hides_object = True
        return view(request, *args, **kwargs)

    return wrapper
